"""Robotics formats against video: reading a 720p JPEG image topic (Foxglove MCAP, ROS 2 bag in
MCAP and sqlite3 storage, ROS 1 bag) against decoding the same frames from the H.264 MP4 they
came from, and the cost of the ``--mcap`` output against ``-o out.mp4``.

Reading: each source is opened with ``open_source`` and read to the end into one reused
buffer (as the pipeline's source stage does); seconds per frame, median of ``--repeat`` runs
that alternate the order. Writing: per frame, ``McapSink.write`` (the recorded JPEG kept, and
the frame re-encoded as JPEG, what a raw or undistorted source costs) against
``VideoFileSink.write`` (H.264 via PyAV when installed) plus the overlay drawing that ``-o``
needs and ``--mcap`` does not (its lanes are annotations). All on real lane results of the
frames (the bundled model, computed once beforehand and not timed).

  python benchmarks/robotics_io.py [VIDEO] [--frames N] [--repeat R] [--quality Q] [--json F]

VIDEO defaults to ../shared/data/videos/udacity_project_highway.mp4 (1280x720, 170 frames).
Needs pip install "lanecam[robotics,video]".
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VIDEO = ROOT.parent / "shared" / "data" / "videos" / "udacity_project_highway.mp4"
BASE_NS = 1_700_000_000_000_000_000


def decode(video: Path, limit: int):
    """The first ``limit`` frames of ``video`` (all when 0) and its fps."""
    from lanecam.pipeline.sources import ReadStatus, open_source

    frames = []
    with open_source(str(video)) as src:
        fps = src.fps
        while not limit or len(frames) < limit:
            status, frame, _ = src.read()
            if status is not ReadStatus.OK:
                break
            frames.append(frame.copy())
    return frames, fps


def write_recordings(frames, fps, quality, folder: Path) -> dict:
    """The frames as JPEG image topics in every recording format; name -> path."""
    import cv2
    import foxglove
    from foxglove.channels import CompressedImageChannel
    from foxglove.messages import CompressedImage, Timestamp
    from rosbags.rosbag1 import Writer as Writer1
    from rosbags.rosbag2 import StoragePlugin, Writer as Writer2
    from rosbags.typesys import Stores, get_typestore

    jpegs = [cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()
             for f in frames]
    stamps = [BASE_NS + int(i * 1e9 / fps) for i in range(len(frames))]
    paths = {}
    ctx = foxglove.Context()
    paths["foxglove MCAP"] = folder / "fox.mcap"
    writer = foxglove.open_mcap(str(paths["foxglove MCAP"]), context=ctx)
    channel = CompressedImageChannel("/camera/image/compressed", context=ctx)
    for t, data in zip(stamps, jpegs):
        ts = Timestamp(sec=t // 10**9, nsec=t % 10**9)
        channel.log(CompressedImage(timestamp=ts, frame_id="cam", data=data, format="jpeg"),
                    log_time=t)
    writer.close()

    def ros_messages(store):
        T = store.types
        for t, data in zip(stamps, jpegs):
            header = T["std_msgs/msg/Header"](
                stamp=T["builtin_interfaces/msg/Time"](sec=t // 10**9, nanosec=t % 10**9),
                frame_id="cam", **({"seq": 0} if "seq" in T["std_msgs/msg/Header"].
                                   __dataclass_fields__ else {}))
            yield t, T["sensor_msgs/msg/CompressedImage"](
                header=header, format="jpeg", data=np.frombuffer(data, np.uint8))

    msgtype = "sensor_msgs/msg/CompressedImage"
    store2 = get_typestore(Stores.ROS2_HUMBLE)
    for name, plugin in (("ROS 2 bag (mcap)", StoragePlugin.MCAP),
                         ("ROS 2 bag (sqlite3)", StoragePlugin.SQLITE3)):
        paths[name] = folder / name.replace(" ", "_").replace("(", "").replace(")", "")
        with Writer2(paths[name], version=9, storage_plugin=plugin) as w:
            conn = w.add_connection("/camera/image/compressed", msgtype, typestore=store2)
            for t, msg in ros_messages(store2):
                w.write(conn, t, store2.serialize_cdr(msg, msgtype))
    store1 = get_typestore(Stores.ROS1_NOETIC)
    paths["ROS 1 bag"] = folder / "drive.bag"
    with Writer1(paths["ROS 1 bag"]) as w:
        conn = w.add_connection("/camera/image/compressed", msgtype, typestore=store1)
        for t, msg in ros_messages(store1):
            w.write(conn, t, store1.serialize_ros1(msg, msgtype))
    return paths


def time_reading(path, frames: int) -> float:
    """Seconds per frame to read ``frames`` frames of ``path`` into one reused buffer."""
    from lanecam.pipeline.sources import ReadStatus, open_source

    t0 = time.perf_counter()
    with open_source(str(path)) as src:
        buf = np.empty((src.height, src.width, 3), np.uint8)
        n = 0
        while n < frames:
            status, _, _ = src.read(out=buf)
            if status is not ReadStatus.OK:
                break
            n += 1
    if n != frames:
        raise SystemExit(f"robotics_io: {path}: read {n} frames, expected {frames}")
    return (time.perf_counter() - t0) / frames


class _Meta:
    def __init__(self, i, fps, encoded):
        self.frame_id, self.source_ts = i, i / fps
        self.stamp_ns = BASE_NS + int(i * 1e9 / fps)
        self.capture_ts, self.source_name, self.encoded = time.monotonic(), None, encoded
        self.stage_ts = {}


def time_sinks(frames, results, jpegs, fps, folder: Path) -> dict:
    """Milliseconds per frame of each output's work."""
    from lanecam import LaneDetector
    from lanecam.pipeline.sinks import McapSink, VideoFileSink

    h, w = frames[0].shape[:2]
    out = {}
    detector = LaneDetector()
    canvas = np.empty_like(frames[0])
    video = VideoFileSink(folder / "out.mp4")
    video.open(w, h, fps)
    draw = write = 0.0
    for i, (frame, result) in enumerate(zip(frames, results)):
        np.copyto(canvas, frame)
        t0 = time.perf_counter()
        detector.draw(canvas, result, inplace=True)
        t1 = time.perf_counter()
        video.write(canvas, result, _Meta(i, fps, None))
        draw, write = draw + t1 - t0, write + time.perf_counter() - t1
    t0 = time.perf_counter()
    video.close()
    write += time.perf_counter() - t0
    out["-o out.mp4 (encode)"] = 1e3 * write / len(frames)
    out["-o out.mp4 (encode + overlay drawing)"] = 1e3 * (write + draw) / len(frames)
    out["video codec"] = video.codec_used
    for name, keep in (("--mcap (recorded JPEG kept)", True),
                       ("--mcap (frames encoded as JPEG)", False)):
        sink = McapSink(folder / f"out-{keep}.mcap")
        sink.open(w, h, fps)
        t0 = time.perf_counter()
        for i, (frame, result) in enumerate(zip(frames, results)):
            sink.write(frame, result, _Meta(i, fps, ("jpeg", jpegs[i]) if keep else None))
        sink.close()
        out[name] = 1e3 * (time.perf_counter() - t0) / len(frames)
    detector.close()
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("video", nargs="?", default=str(DEFAULT_VIDEO))
    p.add_argument("--frames", type=int, default=0, help="first N frames (default all)")
    p.add_argument("--repeat", type=int, default=5, help="reading runs per source (median)")
    p.add_argument("--quality", type=int, default=90, help="JPEG quality of the topics")
    p.add_argument("--json", help="also write the numbers here")
    args = p.parse_args(argv)
    video = Path(args.video)
    if not video.is_file():
        print(f"robotics_io: error: {video}: no such video", file=sys.stderr)
        return 2
    import cv2

    from lanecam import LaneDetector

    frames, fps = decode(video, args.frames)
    n = len(frames)
    with LaneDetector() as detector:
        results = [detector(f, i) for i, f in enumerate(frames)]
    report = {"video": str(video), "frames": n, "size": list(frames[0].shape[1::-1]),
              "jpeg_quality": args.quality, "read_ms": {}, "write_ms": {}}
    with tempfile.TemporaryDirectory(prefix="robotics_io-") as tmp:
        folder = Path(tmp)
        paths = {"MP4 (H.264, decoded)": video, **write_recordings(frames, fps, args.quality,
                                                                    folder)}
        runs = {name: [] for name in paths}
        for r in range(max(1, args.repeat)):
            names = list(paths) if r % 2 == 0 else list(reversed(paths))
            for name in names:
                runs[name].append(time_reading(paths[name], n))
        for name, values in runs.items():
            report["read_ms"][name] = 1e3 * statistics.median(values)
        jpegs = [cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, args.quality])[1].tobytes()
                 for f in frames]
        report["write_ms"] = time_sinks(frames, results, jpegs, fps, folder)
    mp4 = report["read_ms"]["MP4 (H.264, decoded)"]
    print(f"{n} frames {report['size'][0]}x{report['size'][1]} of {video.name}; JPEG quality "
          f"{args.quality}; reading: median of {args.repeat} runs")
    for name, ms in report["read_ms"].items():
        print(f"  read  {name:<32} {ms:6.2f} ms/frame  {ms / mp4:5.2f}x the MP4")
    w = report["write_ms"]
    video_cost = w["-o out.mp4 (encode + overlay drawing)"]
    print(f"  write video codec: {w['video codec']}")
    for name, ms in w.items():
        if name != "video codec":
            print(f"  write {name:<40} {ms:6.2f} ms/frame  {ms / video_cost:5.2f}x -o")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
