"""Find the lanes in a video with the Python API and write an annotated copy.

    python examples/annotate_video.py drive.mp4 annotated.mp4

Uses the bundled model on ONNX Runtime; prints the lanes found in every 25th frame.
(`lanecam run drive.mp4 -o annotated.mp4` does the same with threaded stages and H.264.)
"""

import sys

import cv2

from lanecam import LaneDetector


def main(src_path: str, out_path: str) -> int:
    video = cv2.VideoCapture(src_path)
    if not video.isOpened():
        print(f"{src_path}: cannot open this video", file=sys.stderr)
        return 2
    fps = video.get(cv2.CAP_PROP_FPS) or 25.0
    writer = None
    with LaneDetector() as detector:
        frame_id = 0
        while True:
            ok, frame = video.read()
            if not ok:
                break
            result = detector(frame, frame_id)
            if writer is None:
                size = (frame.shape[1], frame.shape[0])
                writer = cv2.VideoWriter(out_path, cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
            writer.write(detector.draw(frame, result))
            if frame_id % 25 == 0:
                found = ", ".join(f"{lane.slot} {lane.exists:.2f}" for lane in result.lanes)
                print(f"frame {frame_id}: {found or 'no lanes'}")
            frame_id += 1
    video.release()
    if writer is not None:
        writer.release()
    print(f"{frame_id} frames -> {out_path}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
