"""INT8 calibration sets: frames sampled from videos, image folders or globs, preprocessed exactly
as the model's ModelSpec says, ready for static quantization or a numerical check.

Only numpy and OpenCV: the runtime may build a calibration set on a Jetson without TensorFlow.
"""

import glob
from pathlib import Path
from typing import Iterator, List, Optional

import numpy as np

from lanecam.engines.modelspec import ModelSpec
from lanecam.pipeline.errors import InputError

__all__ = ["IMAGE_SUFFIXES", "VIDEO_SUFFIXES", "CalibrationSet", "preprocess_frame",
           "sample_frames", "list_media"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")


def preprocess_frame(frame_bgr: np.ndarray, spec: ModelSpec,
                     out: Optional[np.ndarray] = None) -> np.ndarray:
    """One BGR uint8 frame -> the model's batch-1 input tensor (``spec.input_shape``).

    The runtime's own preprocessing (``lanecam.pipeline.preprocess.Preprocessor``: the same
    crop, resize, colour order and normalisation as ``lanecam run``), so that quantization and
    numerical checks see the pixels the deployed model will see. Writes into ``out`` when given.
    """
    from lanecam.pipeline.preprocess import Preprocessor

    if not isinstance(frame_bgr, np.ndarray) or frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3:
        shape = getattr(frame_bgr, "shape", None)
        raise InputError(f"calibration frame: expected a BGR image (H, W, 3), got shape {shape}")
    h, w = frame_bgr.shape[:2]
    return Preprocessor(spec, w, h)(np.ascontiguousarray(frame_bgr, np.uint8), out=out)


def list_media(source) -> List[Path]:
    """Image and video files named by ``source``: a file, a folder (recursively) or a glob."""
    text = str(source)
    if any(ch in text for ch in "*?["):
        files = [Path(p) for p in sorted(glob.glob(text, recursive=True))]
    else:
        path = Path(text)
        if path.is_file():
            files = [path]
        elif path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file())
        else:
            raise InputError(f"calibration source {text}: no such file or folder")
    media = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES + VIDEO_SUFFIXES]
    if not media:
        raise InputError(f"calibration source {text}: expected images ({', '.join(IMAGE_SUFFIXES)})"
                         f" or videos ({', '.join(VIDEO_SUFFIXES)}), found none")
    return media


def _video_frames(path: Path, count: int) -> Iterator[np.ndarray]:
    """Up to ``count`` frames spread evenly over the video (not just its first seconds)."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise InputError(f"calibration video {path}: cannot be opened (not a readable video?)")
    try:
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        step = max(1, total // count) if total > 0 else 1
        index = 0
        taken = 0
        while taken < count:
            ok, frame = cap.read()
            if not ok:
                break
            if index % step == 0:
                taken += 1
                yield frame
            index += 1
    finally:
        cap.release()


def sample_frames(source, count: int = 64) -> List[np.ndarray]:
    """Up to ``count`` BGR frames from ``source`` (folder, glob, image or video files).

    Images are taken in name order; videos contribute frames spread over their length, the
    budget shared evenly between the videos after the still images are counted.
    """
    if count < 1:
        raise InputError(f"calibration frame count: expected at least 1, got {count}")
    import cv2

    media = list_media(source)
    images = [p for p in media if p.suffix.lower() in IMAGE_SUFFIXES]
    videos = [p for p in media if p.suffix.lower() in VIDEO_SUFFIXES]
    frames: List[np.ndarray] = []
    # with many images, spread the pick over the whole folder rather than the first names
    stride = max(1, len(images) // count) if images else 1
    for path in images[::stride][:count]:
        frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if frame is None:
            raise InputError(f"calibration image {path}: cannot be decoded")
        frames.append(frame)
    left = count - len(frames)
    for i, video in enumerate(videos):
        if left <= 0:
            break
        share = max(1, left // (len(videos) - i))
        got = list(_video_frames(video, share))
        frames.extend(got)
        left -= len(got)
    if not frames:
        raise InputError(f"calibration source {source}: no frame could be read")
    return frames


class CalibrationSet:
    """Preprocessed model inputs for calibration, made once and reused.

    Args:
        source: folder, glob, image or video of road frames like the ones the model will see.
        spec: the model's ModelSpec (decides crop, size, colour, normalisation, layout).
        count: how many frames to sample.
    """

    def __init__(self, source, spec: ModelSpec, count: int = 64):
        self.source = str(source)
        self.spec = spec
        self.frames = sample_frames(source, count)
        self.tensors = [preprocess_frame(f, spec) for f in self.frames]

    def __len__(self) -> int:
        return len(self.tensors)

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self.tensors)

    def batch(self) -> np.ndarray:
        """All tensors stacked along the batch axis (N, ...)."""
        return np.concatenate(self.tensors, axis=0)

    def feeds(self, input_name: Optional[str] = None) -> List[dict]:
        """One ``{input_name: tensor}`` dict per frame (ONNX Runtime's calibration reader form)."""
        name = input_name or self.spec.input_name
        return [{name: t} for t in self.tensors]

