"""Pseudo-labels for real footage without labels: a teacher model's ego lines, kept only where
they agree with the neighbouring frames.

Why this is defensible: the shipped model finds the ego lines (L1, R1) right in about 96 % of
frames from car-mounted cameras on marked roads, and its errors are rarely stable from one
frame to the next (a line jumping onto a barrier or a car comes and goes). So a frame is kept
only when L1 and R1 are both found with high existence and each lies within a few pixels of the
same line in the previous and the next frame. Only those two lines are trusted: the labels say
nothing left of L1 or right of R1 (those pixels and the L2/R2 existence are marked "ignore" for
the loss), because the teacher's outer lines are exactly the failure we train against.

The output is a folder with the kept frames (JPEG) and ``labels.json`` in TuSimple's form plus
``slots`` (the teacher's slot names) and ``trusted: "ego"``, read by ``data.TuSimpleSource``.
"""

import json
from pathlib import Path
from typing import Iterable, List, Optional

import numpy as np

from lanecam.pipeline.errors import InputError

__all__ = ["pseudo_label_videos", "consistent"]

H_STEP = 10  # label rows every 10 px, like TuSimple's h_samples


def _rows(height: int, crop_top: float) -> np.ndarray:
    return np.arange(int(np.ceil(crop_top * height / H_STEP)) * H_STEP, height, H_STEP)


def consistent(a: np.ndarray, b: np.ndarray, max_shift: float, min_overlap: float = 0.6) -> bool:
    """True when two lines sampled on the same rows (NaN: no point) overlap on at least
    ``min_overlap`` of the rows either covers and differ there by at most ``max_shift`` px on
    average."""
    both = ~np.isnan(a) & ~np.isnan(b)
    either = ~np.isnan(a) | ~np.isnan(b)
    if either.sum() == 0 or both.sum() < max(3, min_overlap * either.sum()):
        return False
    return float(np.mean(np.abs(a[both] - b[both]))) <= max_shift


def pseudo_label_videos(videos: Iterable[Path], out: Path, model: Optional[str] = None,
                        min_exists: float = 0.7, max_shift: float = 0.012,
                        log=print) -> Path:
    """Write kept frames and ``labels.json`` for ``videos`` into ``out``; returns the labels path.

    Args:
        videos: video files.
        out: folder to write into (made if needed).
        model: teacher model (default: the bundled LaneFCN).
        min_exists: existence both ego lines need in the frame.
        max_shift: largest mean horizontal difference to the neighbouring frames' line, as a
            fraction of the frame width (0.012: 15 px at 1280).
    """
    import cv2

    from lanecam import LaneDetector

    out = Path(out)
    (out / "frames").mkdir(parents=True, exist_ok=True)
    rows_out: List[dict] = []
    with LaneDetector(model=model, threads=1) as det:
        for video in videos:
            video = Path(video)
            cap = cv2.VideoCapture(str(video))
            if not cap.isOpened():
                raise InputError(f"{video}: cannot open this video for pseudo-labels")
            frames, lines = [], []
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                h, w = frame.shape[:2]
                ys = _rows(h, det.spec.crop_top)
                res = det(frame, len(frames))
                found = {}
                for slot in ("L1", "R1"):
                    lane = res.lane(slot)
                    if lane is not None and lane.exists >= min_exists:
                        found[slot] = lane.x_at(ys)
                frames.append(frame)
                lines.append(found)
            cap.release()
            kept = 0
            for i in range(1, len(frames) - 1):
                cur, prev, nxt = lines[i], lines[i - 1], lines[i + 1]
                w = frames[i].shape[1]
                ok = all(s in cur and s in prev and s in nxt
                         and consistent(cur[s], prev[s], max_shift * w)
                         and consistent(cur[s], nxt[s], max_shift * w) for s in ("L1", "R1"))
                if not ok:
                    continue
                h = frames[i].shape[0]
                name = f"frames/{video.stem}_{i:05d}.jpg"
                cv2.imwrite(str(out / name), frames[i], [cv2.IMWRITE_JPEG_QUALITY, 95])
                ys = _rows(h, det.spec.crop_top)
                lanes = [[-2.0 if np.isnan(x) else round(float(x), 1) for x in cur[s]]
                         for s in ("L1", "R1")]
                rows_out.append({"raw_file": name, "h_samples": ys.tolist(), "lanes": lanes,
                                 "slots": ["L1", "R1"], "trusted": "ego",
                                 "source": f"{video.name}#{i}"})
                kept += 1
            log(f"pseudo-labels: {video.name}: kept {kept} of {len(frames)} frames")
    if not rows_out:
        raise InputError("pseudo-labels: no frame had consistent ego lines; nothing to train on")
    labels = out / "labels.json"
    labels.write_text("".join(json.dumps(r) + "\n" for r in rows_out))
    return labels
