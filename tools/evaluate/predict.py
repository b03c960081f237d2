"""Model inference for evaluation: engine + preprocessing + lane extraction, timed per frame."""

import json
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from lanecam.pipeline.constants import DEFAULT_H_SAMPLES, IMAGE_EXTENSIONS
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.lanes import LaneExtractor, LaneResult, tusimple_xs

__all__ = ["Predictor", "IMAGE_EXTENSIONS", "list_images", "read_image", "tusimple_lanes",
           "predict_folder", "parse_h_samples", "DEFAULT_H_SAMPLES"]


class Predictor:
    """Runs one model on frames of any size and returns lanes in frame pixels.

    Args:
        model: model path, or None for the bundled model.
        engine: engine name for ``lanecam.engines.loader.open_engine`` ("auto", "onnxruntime", ...),
            or an ``Engine`` instance to use as it is (``model`` is then ignored), e.g. a
            Keras model being trained.
        threshold, exist_threshold: passed to ``LaneExtractor`` (None: the model spec's).

    Preprocessors and extractors are made once per frame size. Use as a context manager (the
    engine is opened in ``__enter__`` and closed in ``__exit__``), from one thread.
    """

    def __init__(self, model: Optional[str] = None, engine: str = "auto",
                 threshold: Optional[float] = None, exist_threshold: Optional[float] = None):
        from lanecam.engines.base import Engine
        from lanecam.engines.loader import open_engine  # the engine stack is only needed to predict

        self.engine = engine if isinstance(engine, Engine) else open_engine(model, engine=engine)
        self.spec = self.engine.spec
        self.threshold = threshold
        self.exist_threshold = exist_threshold
        self._per_size: Dict[Tuple[int, int], tuple] = {}
        self.last_outputs: Dict[str, np.ndarray] = {}

    def __enter__(self) -> "Predictor":
        self.engine.open()
        return self

    def __exit__(self, *exc) -> None:
        self.engine.close()

    @property
    def name(self) -> str:
        """Engine and providers, for reports."""
        providers = getattr(self.engine, "providers", None) or []
        return f"{self.engine.name}/{','.join(providers)}" if providers else str(self.engine.name)

    def _stages(self, width: int, height: int):
        key = (width, height)
        if key not in self._per_size:
            from lanecam.pipeline.preprocess import Preprocessor

            pre = Preprocessor(self.spec, width, height)
            ext = LaneExtractor(self.spec, width, height, threshold=self.threshold,
                                exist_threshold=self.exist_threshold)
            self._per_size[key] = (pre, ext)
            # the first inference of a size pays for allocations; keep it out of run_time
            self.engine.infer(pre(np.zeros((height, width, 3), np.uint8)))
        return self._per_size[key]

    def __call__(self, frame: np.ndarray, frame_id: int = 0) -> Tuple[LaneResult, float]:
        """Lanes of one BGR frame and the time taken (ms: preprocess + inference + extraction).

        The raw outputs of the call stay in ``last_outputs`` (copies: engines reuse buffers).
        """
        h, w = frame.shape[:2]
        pre, ext = self._stages(w, h)
        t0 = time.perf_counter()
        outputs = self.engine.infer(pre(frame))
        result = ext(outputs, frame_id)
        ms = (time.perf_counter() - t0) * 1e3
        self.last_outputs = {k: np.array(v) for k, v in outputs.items()}
        return result, ms


def list_images(folder) -> List[Path]:
    """Image files under ``folder`` (recursively), sorted by relative path."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: image folder not found")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS
                   and p.is_file())
    if not files:
        raise InputError(f"{folder}: no images found (expected {', '.join(IMAGE_EXTENSIONS)} files)")
    return files


def read_image(path, what: str = "image") -> np.ndarray:
    """A BGR uint8 image, or InputError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: {what} not found")
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise InputError(f"{path}: not a readable image")
    return img


def tusimple_lanes(result: LaneResult, h_samples: Sequence[int], frame_width: int) -> List[List[int]]:
    """The result's lanes as TuSimple x lists (left to right); lanes with no point are left out."""
    lanes = [tusimple_xs(lane, h_samples, frame_width) for lane in result.lanes]
    return [xs for xs in lanes if any(x >= 0 for x in xs)]


def parse_h_samples(text: Optional[str]) -> List[int]:
    """``START:STOP:STEP`` (like Python's range) -> rows; None -> 160..710 step 10."""
    if text is None:
        return list(DEFAULT_H_SAMPLES)
    parts = text.split(":")
    try:
        start, stop, step = (int(p) for p in parts)
    except ValueError:
        raise InputError(f"--h-samples: expected START:STOP:STEP integers, got {text!r}") from None
    rows = list(range(start, stop, step)) if step > 0 else []
    if not rows or start < 0:
        raise InputError(f"--h-samples: {text!r} gives no rows (expected 0 <= START < STOP, STEP > 0)")
    return rows


def predict_folder(predictor: Predictor, folder, out_path, h_samples: Sequence[int],
                   progress=None) -> Iterator[dict]:
    """Write one TuSimple JSON line per image under ``folder`` to ``out_path``; yields each row.

    ``raw_file`` is the image path relative to ``folder`` (with forward slashes).
    """
    folder = Path(folder)
    files = list_images(folder)
    out_path = Path(out_path)
    if out_path.parent and not out_path.parent.is_dir():
        raise InputError(f"{out_path}: output folder {out_path.parent} does not exist")
    with out_path.open("w") as fh:
        for i, path in enumerate(files):
            img = read_image(path)
            result, ms = predictor(img, i)
            row = {"raw_file": path.relative_to(folder).as_posix(),
                   "lanes": tusimple_lanes(result, h_samples, img.shape[1]),
                   "h_samples": list(h_samples), "run_time": round(ms, 2)}
            fh.write(json.dumps(row) + "\n")
            if progress is not None:
                progress(i + 1, len(files))
            yield row
