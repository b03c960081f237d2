"""Evenly spaced frames of videos, for contact sheets of whole clips."""

from pathlib import Path
from typing import Iterator, List, Sequence, Tuple

import numpy as np

from lanecam.pipeline.errors import InputError

__all__ = ["VIDEO_EXTENSIONS", "list_videos", "spaced_frames"]

VIDEO_EXTENSIONS = (".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".ts")


def list_videos(paths: Sequence) -> List[Path]:
    """Video files named directly or found (recursively) in folders, in sorted order."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.suffix.lower() in VIDEO_EXTENSIONS
                           and f.is_file())
            if not found:
                raise InputError(f"{p}: no videos in this folder (expected "
                                 f"{', '.join(VIDEO_EXTENSIONS)} files)")
            out += found
        elif p.is_file():
            out.append(p)
        else:
            raise InputError(f"{p}: video not found")
    return out


def spaced_frames(path: Path, count: int) -> Iterator[Tuple[int, np.ndarray]]:
    """(index, BGR frame) of ``count`` frames spread evenly over the video, first to last.

    Two passes: one counts the decodable frames (a container's frame count is an estimate),
    one decodes again and yields the chosen frames, so memory holds one frame at a time."""
    import cv2

    def frames():
        cap = cv2.VideoCapture(str(path))
        if not cap.isOpened():
            raise InputError(f"{path}: cannot open this video")
        try:
            while True:
                ok, frame = cap.read()
                if not ok:
                    return
                yield frame
        finally:
            cap.release()

    total = sum(1 for _ in frames())
    if not total:
        raise InputError(f"{path}: no decodable frame in this video")
    picks = set(np.linspace(0, total - 1, min(count, total)).round().astype(int).tolist())
    for i, frame in enumerate(frames()):
        if i in picks:
            yield i, frame
