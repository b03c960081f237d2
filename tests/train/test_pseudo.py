"""Pseudo-labels and the losses' ignore labels: what the teacher is not trusted on is never
trained on, and only frames consistent with their neighbours are kept."""

import json

import numpy as np
import pytest

from lanecam.engines.modelspec import ModelSpec
from lanecam.pipeline.data_paths import data_path
from lanecam.tools.train.data import IGNORE, SampleMaker, TuSimpleSource, flip_sample
from lanecam.tools.train.pseudo import consistent

SPEC = ModelSpec(crop_top=0.30)


def test_consistent_needs_overlap_and_small_shift():
    a = np.array([np.nan, 100.0, 110.0, 120.0, 130.0])
    assert consistent(a, a + 3.0, max_shift=5.0)
    assert not consistent(a, a + 8.0, max_shift=5.0)
    b = a.copy()
    b[2:] = np.nan            # covers only one row of four
    assert not consistent(a, b, max_shift=5.0)


def _ego_row(tmp_path):
    import cv2

    img = np.full((720, 1280, 3), 90, np.uint8)
    cv2.imwrite(str(tmp_path / "f.jpg"), img)
    ys = list(range(300, 720, 10))
    left = [640 - 0.9 * (y - 300) for y in ys]
    right = [680 + 0.9 * (y - 300) for y in ys]
    row = {"raw_file": "f.jpg", "h_samples": ys, "lanes": [left, right], "slots": ["L1", "R1"],
           "trusted": "ego"}
    (tmp_path / "labels.json").write_text(json.dumps(row) + "\n")
    return TuSimpleSource(SampleMaker(SPEC), [tmp_path / "labels.json"], tmp_path)


def test_ego_pseudo_label_ignores_outside_the_ego_lines(tmp_path):
    src = _ego_row(tmp_path)
    _, seg, exist = src(0, augment=False)
    assert exist.tolist() == [-1.0, 1.0, 1.0, -1.0]      # outer slots: unknown
    assert set(np.unique(seg)) == {0, 2, 3, IGNORE}
    rows = [r for r in seg if (r == 2).any() and (r == 3).any()]
    assert len(rows) > 20
    row = rows[-1]
    l1, r1 = np.flatnonzero(row == 2), np.flatnonzero(row == 3)
    assert (row[:l1.min() - 6] == IGNORE).all() and (row[r1.max() + 7:] == IGNORE).all()
    assert (row[l1.max() + 1:r1.min()] == 0).all()        # between the lines: background
    assert (seg[0] == IGNORE).all()                       # above the lines: unknown


def test_flip_keeps_ignore():
    seg = np.array([[IGNORE, 1, 2, 0, 3, 4]], np.uint8)
    _, flipped, _ = flip_sample(np.zeros((1, 6, 3), np.uint8), seg, np.zeros(4, np.float32))
    assert flipped.tolist() == [[1, 2, 0, 3, 4, IGNORE]]


def test_losses_skip_ignored_pixels_and_unknown_existence():
    keras = pytest.importorskip("keras")
    from lanecam.tools.train.losses import MaskedExistLoss, SegLoss

    rng = np.random.default_rng(0)
    pred = rng.random((1, 4, 6, 5)).astype(np.float32)
    pred /= pred.sum(-1, keepdims=True)
    labels = np.zeros((1, 4, 6), np.uint8)
    labels[0, :, 1] = 2
    loss = SegLoss(5)
    base = float(loss(labels, pred))
    # changing the prediction where the label is IGNORE changes nothing
    masked = labels.copy()
    masked[0, :, 4:] = IGNORE
    other = pred.copy()
    other[0, :, 4:] = np.roll(other[0, :, 4:], 1, axis=-1)
    assert float(loss(masked, pred)) == pytest.approx(float(loss(masked, other)), rel=1e-6)
    assert float(loss(masked, pred)) != pytest.approx(base)
    exist = MaskedExistLoss()
    p = np.array([[0.9, 0.2, 0.7, 0.4]], np.float32)
    known = float(exist(np.array([[1, 0, 1, 0]], np.float32), p))
    part = float(exist(np.array([[1, -1, 1, -1]], np.float32), p))
    want = -(np.log(0.9) + np.log(0.7)) / 2
    assert part == pytest.approx(want, rel=1e-5) and known != pytest.approx(part)
    del keras


@pytest.mark.skipif(data_path("videos", "udacity_vehicle_test.mp4") is None,
                    reason="../shared/data absent")
def test_pseudo_labels_on_a_real_clip(tmp_path):
    pytest.importorskip("onnxruntime")
    from lanecam.tools.train.pseudo import pseudo_label_videos

    video = data_path("videos", "udacity_vehicle_test.mp4")
    labels = pseudo_label_videos([video], tmp_path, log=lambda *_: None)
    rows = [json.loads(line) for line in labels.read_text().splitlines()]
    # the first and last frame have one neighbour only: never kept
    assert 20 <= len(rows) <= 36
    for row in rows:
        assert (tmp_path / row["raw_file"]).is_file()
        assert row["slots"] == ["L1", "R1"] and row["trusted"] == "ego"
        assert row["raw_file"].startswith("frames/000_udacity_vehicle_test_")
        left, right = (np.array(x) for x in row["lanes"])
        both = (left >= 0) & (right >= 0)
        # the ego lines may meet at the vanishing point; below it L1 is left of R1
        assert both.sum() >= 5 and (left[both][-5:] < right[both][-5:]).all()


@pytest.mark.skipif(data_path("videos", "udacity_vehicle_test.mp4") is None,
                    reason="../shared/data absent")
def test_pseudo_labels_are_reused_only_for_the_same_videos_and_teacher(tmp_path):
    pytest.importorskip("onnxruntime")
    import shutil

    from lanecam.engines.loader import default_model_path
    from lanecam.tools.train.pseudo import ensure_pseudo_labels

    clip = tmp_path / "clip.mp4"
    shutil.copy(data_path("videos", "udacity_vehicle_test.mp4"), clip)
    folder = tmp_path / "pseudo"
    said = []
    first = ensure_pseudo_labels([clip], folder, log=said.append)
    rows = first.read_text()
    ensure_pseudo_labels([clip], folder, log=said.append)
    assert any("reusing" in s for s in said)
    # the teacher is known by its bytes and spec: a copy elsewhere is the same teacher...
    teacher = tmp_path / "teacher.onnx"
    shutil.copy(default_model_path(), teacher)
    spec = default_model_path().with_name(default_model_path().stem + ".spec.json")
    shutil.copy(spec, tmp_path / "teacher.spec.json")
    said.clear()
    ensure_pseudo_labels([clip], folder, teacher=str(teacher), log=said.append)
    assert any("reusing" in s for s in said)
    # ... and other thresholds in its spec make another teacher: made again, not reused
    card = json.loads(spec.read_text())
    card["exist_threshold"] = 0.9
    (tmp_path / "teacher.spec.json").write_text(json.dumps(card))
    said.clear()
    again = ensure_pseudo_labels([clip], folder, teacher=str(teacher), log=said.append)
    assert not any("reusing" in s for s in said)
    assert len(again.read_text().splitlines()) <= len(rows.splitlines())


def test_listed_outer_line_is_trusted_where_it_runs(tmp_path):
    """trusted "listed": an outer line the teacher was sure and steady about is a label; the
    ground between it and the ego line is known background; beyond it, and beside the ego
    lines in rows the outer line does not reach, nothing is known."""
    import cv2

    cv2.imwrite(str(tmp_path / "f.jpg"), np.full((720, 1280, 3), 90, np.uint8))
    ys = list(range(300, 720, 10))
    l1 = [640 - 0.9 * (y - 300) for y in ys]
    r1 = [680 + 0.9 * (y - 300) for y in ys]
    l2 = [600 - 2.5 * (y - 300) if y <= 500 else -2 for y in ys]   # leaves the frame at y 540
    row = {"raw_file": "f.jpg", "h_samples": ys, "lanes": [l2, l1, r1],
           "slots": ["L2", "L1", "R1"], "trusted": "listed"}
    (tmp_path / "labels.json").write_text(json.dumps(row) + "\n")
    src = TuSimpleSource(SampleMaker(SPEC), [tmp_path / "labels.json"], tmp_path)
    _, seg, exist = src(0, augment=False)
    assert exist.tolist() == [1.0, 1.0, 1.0, -1.0]       # R2 not listed: unknown
    both = [r for r in range(seg.shape[0]) if (seg[r] == 1).any() and (seg[r] == 2).any()]
    assert len(both) > 5
    r = both[len(both) // 2]
    l2_cols, l1_cols = np.flatnonzero(seg[r] == 1), np.flatnonzero(seg[r] == 2)
    assert (seg[r, l2_cols.max() + 1:l1_cols.min()] == 0).all()   # between L2 and L1: known
    assert (seg[r, :max(l2_cols.min() - 6, 0)] == IGNORE).all()   # beyond L2: unknown
    # a row below where L2 runs: bounded by L1 again
    low = [r for r in range(seg.shape[0]) if (seg[r] == 2).any() and not (seg[r] == 1).any()
           and r > max(both)]
    assert low
    r = low[-1]
    assert (seg[r, :np.flatnonzero(seg[r] == 2).min() - 6] == IGNORE).all()


@pytest.mark.skipif(data_path("videos", "udacity_solid_white_right.mp4") is None,
                    reason="../shared/data absent")
def test_pseudo_labels_with_trusted_outer_lines_on_a_real_clip(tmp_path):
    pytest.importorskip("onnxruntime")
    from lanecam.tools.train.pseudo import ensure_pseudo_labels

    video = data_path("videos", "udacity_solid_white_right.mp4")
    said = []
    labels = ensure_pseudo_labels([video], tmp_path / "p", log=said.append, outer_min_exists=0.9)
    rows = [json.loads(line) for line in labels.read_text().splitlines()]
    assert rows and all(r["trusted"] == "listed" for r in rows)
    assert all({"L1", "R1"} <= set(r["slots"]) for r in rows)
    # this clip has a painted line left of L1 (the road's left edge): some rows trust it
    with_outer = [r for r in rows if set(r["slots"]) - {"L1", "R1"}]
    assert with_outer and any("outer lines trusted" in s for s in said)
    for r in with_outer:
        order = [s for s in ("L2", "L1", "R1", "R2") if s in r["slots"]]
        assert r["slots"] == order and len(r["lanes"]) == len(order)
    # other settings are another set of labels: made again, not reused
    said.clear()
    ensure_pseudo_labels([video], tmp_path / "p", log=said.append)
    assert not any("reusing" in s for s in said)


def test_absent_outer_slot_makes_its_side_background(tmp_path):
    """``absent: ["L2"]``: the teacher steadily saw no line left of L1, so that side of every
    row the ego lines cover is background and L2's existence is 0; the right side (R2 not
    listed) stays unknown."""
    _ego_row(tmp_path)
    row = json.loads((tmp_path / "labels.json").read_text())
    row["absent"] = ["L2"]
    (tmp_path / "labels.json").write_text(json.dumps(row) + "\n")
    src = TuSimpleSource(SampleMaker(SPEC), [tmp_path / "labels.json"], tmp_path)
    _, seg, exist = src(0, augment=False)
    assert exist.tolist() == [0.0, 1.0, 1.0, -1.0]
    rows = [r for r in seg if (r == 2).any() and (r == 3).any()]
    assert len(rows) > 20
    r = rows[-1]
    l1, r1 = np.flatnonzero(r == 2), np.flatnonzero(r == 3)
    assert (r[:l1.min()] == 0).all()                      # left of L1: known background
    assert (r[r1.max() + 7:] == IGNORE).all()             # right of R1: still unknown
    assert (seg[0] == IGNORE).all()                       # above the ego lines: unknown
    # mirrored, the known side and the existence follow the slots
    _, fseg, fexist = flip_sample(np.zeros((*seg.shape, 3), np.uint8), seg, exist)
    assert fexist.tolist() == [-1.0, 1.0, 1.0, 0.0]
    both = [x for x in fseg if (x == 2).any() and (x == 3).any()]
    fr = both[-1]
    assert (fr[np.flatnonzero(fr == 3).max() + 1:] == 0).all()   # now right of R1


@pytest.mark.skipif(data_path("videos", "udacity_vehicle_test.mp4") is None,
                    reason="../shared/data absent")
def test_pseudo_labels_trust_a_steady_absence_on_a_real_clip(tmp_path):
    """On this clip nothing left of the yellow edge line is a lane line (a shoulder and a
    barrier): with ``absent_below`` most kept rows say L2 is absent; R2 (a dashed line the
    teacher finds) is not called absent in a row where the teacher reported it."""
    pytest.importorskip("onnxruntime")
    from lanecam.tools.train.pseudo import ensure_pseudo_labels

    video = data_path("videos", "udacity_vehicle_test.mp4")
    said = []
    labels = ensure_pseudo_labels([video], tmp_path / "p", log=said.append, absent_below=0.3)
    rows = [json.loads(line) for line in labels.read_text().splitlines()]
    assert rows and all("absent" in r for r in rows)
    assert sum("L2" in r["absent"] for r in rows) >= len(rows) // 2
    assert any("trusted empty" in s for s in said)
    assert all(not set(r["absent"]) & set(r["slots"]) for r in rows)
    # another setting is another set of labels
    said.clear()
    ensure_pseudo_labels([video], tmp_path / "p", log=said.append)
    assert not any("reusing" in s for s in said)
