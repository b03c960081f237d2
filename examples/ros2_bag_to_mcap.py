"""Turn a ROS 2 bag (or a ROS 1 bag, or an MCAP file) into an MCAP file with the lanes drawn,
for Foxglove, with the Python API.

    python examples/ros2_bag_to_mcap.py BAG_FOLDER annotated.mcap [TOPIC]

Every frame of the bag's image topic goes through the bundled model; the output holds the
camera images as recorded, the lanes as image annotations and the full results, each at the
frame's recorded time (see docs/robotics.md). `lanecam run BAG --mcap annotated.mcap` does the
same with threaded stages. Needs pip install "lanecam[robotics]".
"""

import sys

from lanecam import LaneDetector, open_source
from lanecam.pipeline.sinks import McapSink


def main(bag: str, out: str, topic: str = None) -> int:
    with open_source(bag, topic=topic) as frames, LaneDetector() as detector:
        sink = McapSink(out)
        sink.open(frames.width, frames.height, frames.fps)
        try:
            for frame, meta in frames:
                sink.write(frame, detector(frame, meta.frame_id), meta)
        finally:
            sink.close()  # writes the index and renames the finished file into place
    print(f"{sink.frames_written} frames of {frames.topic} -> {out}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
