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

With ``outer_min_exists`` the teacher's outer lines (L2, R2) are trusted too, but only where they
are as stable as the ego lines over the three frames and at least that sure (LaneFCN v3 draws
an outer line on a barrier in a few per cent of frames, with existence 0.70-0.86, never steady
for three frames at 0.9): such a row lists them in ``slots`` and says ``trusted: "listed"``
(what lies between the outermost listed lines is known, everything outside them unknown, the
existence of a slot not listed unknown).
"""

import json
import shutil
from collections import deque
from pathlib import Path
from typing import Iterable, List, Optional, Sequence

import numpy as np

from lanecam.pipeline.errors import InputError

__all__ = ["pseudo_label_videos", "ensure_pseudo_labels", "consistent"]

H_STEP = 10  # label rows every 10 px, like TuSimple's h_samples
EGO = ("L1", "R1")
OUTER = ("L2", "R2")
SEEN = "seen"  # key of _ego_lines' result: the outer slots with any line reported


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


def _ego_lines(det, frame, frame_id: int, min_exists: float,
               outer_min_exists: Optional[float] = None,
               seen_from: Optional[float] = None) -> Optional[dict]:
    """slot -> x per label row of the teacher's confident ego lines (and outer lines at least
    ``outer_min_exists`` sure, when given); None for a frame the teacher must not label (a trust
    warning: no road, portrait...). The outer slots in which the teacher reported a line at
    least ``seen_from`` sure (any line when None) are listed under the key ``SEEN``."""
    res = det(frame, frame_id)
    if res.warnings:
        return None
    ys = _rows(frame.shape[0], det.spec.crop_top)
    wanted = [(s, min_exists) for s in EGO]
    if outer_min_exists is not None:
        wanted += [(s, outer_min_exists) for s in OUTER]
    found = {}
    for slot, least in wanted:
        lane = res.lane(slot)
        if lane is not None and lane.exists >= least:
            found[slot] = lane.x_at(ys)
    found[SEEN] = {s for s in OUTER if res.lane(s) is not None
                   and (seen_from is None or res.lane(s).exists >= seen_from)}
    return found


def _agrees(cur, prev, nxt, max_shift: float, slots=EGO) -> bool:
    return all(d is not None for d in (cur, prev, nxt)) and all(
        s in cur and s in prev and s in nxt and consistent(cur[s], prev[s], max_shift)
        and consistent(cur[s], nxt[s], max_shift) for s in slots)


def pseudo_label_videos(videos: Iterable[Path], out: Path, model: Optional[str] = None,
                        min_exists: float = 0.7, max_shift: float = 0.012,
                        outer_min_exists: Optional[float] = None,
                        absent_below: Optional[float] = None, log=print) -> Path:
    """Write kept frames and ``labels.json`` for ``videos`` into ``out``; returns the labels path.

    Frames are read once, in order, with a window of three in memory (the frame judged and its
    two neighbours), so a long video costs no more memory than a short one.

    Args:
        videos: video files.
        out: folder to write into (made if needed).
        model: teacher model (default: the bundled LaneFCN).
        min_exists: existence both ego lines need in the frame.
        max_shift: largest mean horizontal difference to the neighbouring frames' line, as a
            fraction of the frame width (0.012: 15 px at 1280).
        outer_min_exists: also trust the outer lines this sure and as stable (None: never).
        absent_below: also trust the teacher's steady *absence* of an outer line: an outer slot
            in which the teacher reports nothing even at this existence threshold, in the frame
            and both neighbours, is written to the row's ``absent`` list (that side is then
            background for training). None: never.
    """
    import cv2

    from lanecam import LaneDetector
    from lanecam.pipeline.outputs import write_atomic

    out = Path(out)
    (out / "frames").mkdir(parents=True, exist_ok=True)
    rows_out: List[dict] = []
    outer_kept = absent_kept = 0
    # with absent_below the teacher reports lines down to that existence (the ego lines still
    # need min_exists), so that "no outer line reported" means the network was sure of none
    low = None if absent_below is None else min(absent_below, min_exists)
    with LaneDetector(model=model, threads=1, exist_threshold=low) as det:
        for k, video in enumerate(map(Path, videos)):
            cap = cv2.VideoCapture(str(video))
            if not cap.isOpened():
                raise InputError(f"{video}: cannot open this video for pseudo-labels")
            window = deque(maxlen=3)   # (index, frame, lines) of the last three frames
            kept = total = 0
            try:
                while True:
                    ok, frame = cap.read()
                    if not ok:
                        break
                    window.append((total, frame, _ego_lines(det, frame, total, min_exists,
                                                            outer_min_exists, absent_below)))
                    total += 1
                    if len(window) < 3:
                        continue
                    (_, _, prev), (i, mid, cur), (_, _, nxt) = window
                    if not _agrees(cur, prev, nxt, max_shift * mid.shape[1]):
                        continue
                    # the video's index keeps same-named videos from different folders apart
                    name = f"frames/{k:03d}_{video.stem}_{i:05d}.jpg"
                    if not cv2.imwrite(str(out / name), mid, [cv2.IMWRITE_JPEG_QUALITY, 95]):
                        raise InputError(f"{out / name}: cannot write a pseudo-labelled frame")
                    slots = list(EGO)
                    if outer_min_exists is not None:
                        outer = [s for s in OUTER
                                 if _agrees(cur, prev, nxt, max_shift * mid.shape[1], (s,))]
                        slots = [s for s in ("L2", "L1", "R1", "R2") if s in EGO or s in outer]
                        outer_kept += len(outer)
                    lanes = [[-2.0 if np.isnan(x) else round(float(x), 1) for x in cur[s]]
                             for s in slots]
                    row = {"raw_file": name,
                           "h_samples": _rows(mid.shape[0], det.spec.crop_top).tolist(),
                           "lanes": lanes, "slots": slots,
                           "trusted": "ego" if outer_min_exists is None else "listed",
                           "source": f"{video.name}#{i}"}
                    if absent_below is not None:
                        row["absent"] = [s for s in OUTER if s not in slots and not any(
                            s in d[SEEN] for d in (prev, cur, nxt))]
                        absent_kept += len(row["absent"])
                    rows_out.append(row)
                    kept += 1
            finally:
                cap.release()
            log(f"pseudo-labels: {video.name}: kept {kept} of {total} frames")
    if outer_min_exists is not None:
        log(f"pseudo-labels: {outer_kept} outer lines trusted (existence >= "
            f"{outer_min_exists}, steady over three frames)")
    if absent_below is not None:
        log(f"pseudo-labels: {absent_kept} outer slots trusted empty (nothing reported at "
            f"existence {absent_below} over three frames)")
    if not rows_out:
        raise InputError("pseudo-labels: no frame had consistent ego lines; nothing to train on")
    labels = out / "labels.json"
    write_atomic(labels, "".join(json.dumps(r) + "\n" for r in rows_out), "pseudo-labels")
    return labels


def _stamp(videos: Sequence, teacher: Optional[str],
           outer_min_exists: Optional[float] = None,
           absent_below: Optional[float] = None) -> dict:
    """What the pseudo-labels were made from: the teacher's identity (its bytes, its spec file
    and the lanecam version, as ``lanecam batch`` identifies a model) and each video's path,
    size and modification time."""
    from lanecam import __version__
    from lanecam.engines.inputspec import spec_path_for
    from lanecam.pipeline.batch.ledger import model_identity

    def ident(path):
        st = Path(path).stat()
        return [str(Path(path).resolve()), st.st_size, int(st.st_mtime)]

    if not teacher:
        from lanecam.engines.loader import default_model_path

        teacher = default_model_path()
    spec = spec_path_for(teacher)
    stamp = {"teacher": model_identity(str(teacher), "auto",
                                       str(spec) if spec.is_file() else None,
                                       version=__version__),
             "videos": [ident(v) for v in videos]}
    if outer_min_exists is not None:   # absent otherwise: ego-only folders made before still match
        stamp["outer_min_exists"] = outer_min_exists
    if absent_below is not None:
        stamp["absent_below"] = absent_below
    return stamp


def ensure_pseudo_labels(videos: Sequence, folder: Path, teacher: Optional[str] = None,
                         log=print, outer_min_exists: Optional[float] = None,
                         absent_below: Optional[float] = None) -> Path:
    """The pseudo-labels of ``videos`` by ``teacher`` in ``folder``: reused when they were made
    from the same files with the same settings (``source.json``), else made again from
    scratch."""
    from lanecam.pipeline.outputs import write_atomic

    folder = Path(folder)
    stamp = _stamp(videos, teacher, outer_min_exists, absent_below)
    labels, source = folder / "labels.json", folder / "source.json"
    try:
        same = labels.is_file() and json.loads(source.read_text()) == stamp
    except (OSError, ValueError):
        same = False
    if same:
        log(f"pseudo-labels: reusing {labels}")
        return labels
    if folder.exists():
        shutil.rmtree(folder)   # labels of other videos or another teacher: never mix them
    labels = pseudo_label_videos([Path(v) for v in videos], folder, model=teacher, log=log,
                                 outer_min_exists=outer_min_exists, absent_below=absent_below)
    write_atomic(source, json.dumps(stamp, indent=1), "pseudo-labels")
    return labels
