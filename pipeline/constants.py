"""Constants shared by the runtime and the offline tools, defined once.

``RECORDING_EXTENSIONS``: MCAP files and ROS 1 bags, taken by a folder search
(``lanecam batch``) like videos (a ROS 2 bag is a folder holding ``metadata.yaml``).
``IMAGE_EXTENSIONS``: the image files an image folder source, ``lanecam evaluate --predict``,
``birdseye --preview`` and the benchmarks take. ``VIDEO_EXTENSIONS``: the files a folder search
takes for videos (``lanecam batch``, ``evaluate --videos``, ``train --recipe``'s pseudo-label
videos). ``DEFAULT_H_SAMPLES``: the TuSimple rows (frame pixels) lanes are reported on;
``range_text`` writes a row range the way ``--h-samples`` takes it.
"""

__all__ = ["IMAGE_EXTENSIONS", "VIDEO_EXTENSIONS", "RECORDING_EXTENSIONS", "DEFAULT_H_SAMPLES",
           "range_text"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".mpg", ".mpeg", ".ts",
                    ".mts", ".m2ts", ".wmv", ".flv", ".3gp", ".h264", ".h265", ".hevc")
RECORDING_EXTENSIONS = (".mcap", ".bag")
DEFAULT_H_SAMPLES = range(160, 720, 10)


def range_text(rows: range) -> str:
    """``range(START, STOP, STEP)`` as the ``"START:STOP:STEP"`` text of ``--h-samples``."""
    return f"{rows.start}:{rows.stop}:{rows.step}"
