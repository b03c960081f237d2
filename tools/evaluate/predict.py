"""Model inference for evaluation: engine + preprocessing + lane extraction, timed per frame."""

import json
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from lanecam.pipeline.constants import DEFAULT_H_SAMPLES, IMAGE_EXTENSIONS
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.lanes import LaneResult, tusimple_xs
from lanecam.pipeline.outputs import PartialFile

__all__ = ["Predictor", "IMAGE_EXTENSIONS", "list_images", "read_image", "tusimple_lanes",
           "predict_folder", "parse_h_samples", "DEFAULT_H_SAMPLES"]


class Predictor:
    """A ``LaneDetector`` that also times each frame and keeps its raw outputs, for scoring.

    Args:
        model: model path, or None for the bundled model.
        engine: engine name ("auto", "onnxruntime", ...), or an ``Engine`` instance to use as
            it is (``model`` is then ignored), e.g. a Keras model being trained.
        threshold, exist_threshold: lane extraction thresholds (None: the model spec's).
        crop_top: the share of the frame height cut off above the road (None: the spec's).

    Use as a context manager (the engine is opened in ``__enter__`` and closed in
    ``__exit__``), from one thread.
    """

    def __init__(self, model: Optional[str] = None, engine="auto",
                 threshold: Optional[float] = None, exist_threshold: Optional[float] = None,
                 crop_top: Optional[float] = None):
        from lanecam.pipeline.detector import LaneDetector

        self.detector = LaneDetector(model, engine=engine, lane_threshold=threshold,
                                     exist_threshold=exist_threshold, crop_top=crop_top)
        self.engine = self.detector.engine
        self.spec = self.detector.spec
        self._warm: set = set()
        self.last_outputs: Dict[str, np.ndarray] = {}
        self.last_crop_top = self.spec.crop_top     # the crop of the last frame's outputs

    def __enter__(self) -> "Predictor":
        self.detector.open()
        return self

    def __exit__(self, *exc) -> None:
        self.detector.close()

    @property
    def name(self) -> str:
        """Engine and providers, for reports."""
        providers = getattr(self.engine, "providers", None) or []
        return f"{self.engine.name}/{','.join(providers)}" if providers else str(self.engine.name)

    def __call__(self, frame: np.ndarray, frame_id: int = 0) -> Tuple[LaneResult, float]:
        """Lanes of one BGR frame and the time taken (ms: preprocess + inference + extraction).

        The raw outputs of the call stay in ``last_outputs`` (copies: engines reuse buffers).
        """
        d = self.detector
        h, w = frame.shape[:2]
        if (w, h) not in self._warm:
            # the first inference of a size pays for allocations; keep it out of run_time
            self._warm.add((w, h))
            d.infer(d.preprocess(np.zeros((h, w, 3), np.uint8)))
        t0 = time.perf_counter()
        crop = d.crop_top_for(w, h)     # moves under crop_top="auto"
        outputs = d.infer(d.preprocess(frame, crop_top=crop))
        result = d.postprocess(outputs, w, h, frame_id, frame=frame, crop_top=crop)
        ms = (time.perf_counter() - t0) * 1e3
        self.last_outputs = {k: np.array(v) for k, v in outputs.items()}
        self.last_crop_top = crop
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
    """``START:STOP:STEP`` (like Python's range) -> rows; None -> 160..710 step 10. The same
    rule as ``lanecam run --h-samples`` (``run_config.parse_h_samples``)."""
    from lanecam.pipeline.cli.run_config import parse_h_samples as parse_range

    return list(DEFAULT_H_SAMPLES) if text is None else list(parse_range(text))


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
    target = PartialFile(out_path, "--out")  # renamed into place only when every image is done
    try:
        yield from _write_rows(predictor, folder, files, target.path, h_samples, progress)
    except BaseException:
        target.discard()
        raise
    target.commit()


def _write_rows(predictor, folder: Path, files, path: Path, h_samples, progress):
    with path.open("w", encoding="utf-8") as fh:
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
