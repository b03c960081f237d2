"""Evenly spaced frames of videos, for contact sheets of whole clips."""

from pathlib import Path
from typing import Iterator, List, Sequence, Tuple

import numpy as np

from lanecam.pipeline.constants import VIDEO_EXTENSIONS
from lanecam.pipeline.errors import InputError

__all__ = ["VIDEO_EXTENSIONS", "list_videos", "check_videos", "video_frames", "spaced_frames"]



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


def check_videos(paths: Sequence, flag: str = "--videos") -> List[Path]:
    """``list_videos(paths)``, each checked to be a video that yields a first frame: run before
    any scoring, so that a wrong path fails in a second, not after minutes of inference.

    A file named directly must have one of ``VIDEO_EXTENSIONS`` (a folder's files are picked by
    them already). Raises ``InputError`` (one line naming ``flag`` and the path) otherwise."""
    # capture also keeps FFmpeg's own lines ("moov atom not found") off the terminal
    from lanecam.pipeline.sources.capture import import_cv2, quiet_opencv

    cv2 = import_cv2("--videos")
    for p in map(Path, paths):
        if p.is_file() and p.suffix.lower() not in VIDEO_EXTENSIONS:
            raise InputError(f"{flag}: {p}: not a video file (expected "
                             f"{', '.join(VIDEO_EXTENSIONS)}, or a folder of them)")
    try:
        videos = list_videos(paths)
    except InputError as exc:
        raise InputError(f"{flag}: {exc}") from None
    for video in videos:
        with quiet_opencv(cv2):
            cap = cv2.VideoCapture(str(video))
        try:
            if not cap.isOpened():
                raise InputError(f"{flag}: {video}: cannot open this video")
            ok, _ = cap.read()
            if not ok:
                raise InputError(f"{flag}: {video}: no decodable frame in this video")
        finally:
            cap.release()
    return videos


def video_frames(path) -> Iterator[np.ndarray]:
    """Every BGR frame of a video, in order (the capture is released when the loop ends or is
    left); a file OpenCV cannot open is an ``InputError``."""
    import cv2

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


def spaced_frames(path: Path, count: int) -> Iterator[Tuple[int, np.ndarray]]:
    """(index, BGR frame) of ``count`` frames spread evenly over the video, first to last.

    Two passes: one counts the decodable frames (a container's frame count is an estimate),
    one decodes again and yields the chosen frames, so memory holds one frame at a time."""
    total = sum(1 for _ in video_frames(path))
    if not total:
        raise InputError(f"{path}: no decodable frame in this video")
    picks = set(np.linspace(0, total - 1, min(count, total)).round().astype(int).tolist())
    for i, frame in enumerate(video_frames(path)):
        if i in picks:
            yield i, frame
