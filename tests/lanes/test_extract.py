"""Lane extraction on hand-made probability maps with known lines."""

import numpy as np
import pytest

from lanecam.engines.modelspec import ModelSpec
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.lanes import Lane, LaneExtractor, tusimple_xs

W, H = 1280, 720
SPEC = ModelSpec(input_height=128, input_width=320, crop_top=0.35, crop_bottom=0.05)
SLOTS = SPEC.slot_names  # L2 L1 R1 R2


def model_rows_to_frame_y(spec=SPEC, h=H):
    top, bottom = spec.crop_rows(h)
    return top + (np.arange(spec.input_height) + 0.5) * (bottom - top) / spec.input_height - 0.5


def render(lines, spec=SPEC, peak=0.9, sigma=0.8, rows=None):
    """A softmax-like NHWC map (1, h, w, 1 + K) with slot k along frame-space curve lines[k].

    lines: slot name -> function y_frame -> x_frame. ``rows`` limits the model rows drawn.
    """
    h, w = spec.input_height, spec.input_width
    out = np.zeros((1, h, w, spec.num_classes), np.float32)
    fy = model_rows_to_frame_y(spec)
    cols = np.arange(w)[None, :]
    sel = np.zeros(h, bool)
    sel[rows if rows is not None else slice(None)] = True
    for slot, f in lines.items():
        k = 1 + SLOTS.index(slot)
        xm = (f(fy) + 0.5) * w / W - 0.5                # frame x -> model column
        blob = peak * np.exp(-0.5 * ((cols - xm[:, None]) / sigma) ** 2)
        out[0, :, :, k] = np.where(sel[:, None], blob, 0)
    out[0, :, :, 0] = np.clip(1 - out[0, :, :, 1:].sum(axis=2), 0, 1)
    return out


def line(slope, curve=0.0, vx=640.0, vy=230.0):
    """x = vx + slope * (y - vy) + curve * (y - vy)^2: lines meet near a vanishing point."""
    return lambda y: vx + slope * (y - vy) + curve * (y - vy) ** 2


def max_error(lane: Lane, f):
    return float(np.max(np.abs(lane.points[:, 0] - f(lane.points[:, 1].astype(np.float64)))))


LINES = {"L2": line(-2.0, 4e-4), "L1": line(-0.8, 4e-4), "R1": line(0.8, 4e-4),
         "R2": line(2.0, 4e-4)}


def test_straight_and_curved_lines_recovered_within_1px():
    ext = LaneExtractor(SPEC, W, H)
    res = ext({"lane_prob": render(LINES), "lane_exist": np.full((1, 4), 0.9, np.float32)}, 7)
    assert res.frame_id == 7
    assert [lane.slot for lane in res.lanes] == list(SLOTS)
    for lane in res.lanes:
        assert max_error(lane, LINES[lane.slot]) < 1.0, lane.slot
        assert lane.exists == pytest.approx(0.9)
        assert 0.8 < lane.confidence <= 0.9
        ys = lane.points[:, 1]
        assert np.all(np.diff(ys) > 0)
        assert ys.min() >= SPEC.crop_rows(H)[0] - 1 and ys.max() <= SPEC.crop_rows(H)[1]
        assert lane.points[:, 0].min() >= 0 and lane.points[:, 0].max() <= W - 1


def test_points_clipped_to_the_frame():
    # L2 leaves the frame on the left near the bottom: the lane keeps only in-frame points
    ext = LaneExtractor(SPEC, W, H)
    lane = ext({"lane_prob": render({"L2": LINES["L2"]})}, 0).lane("L2")
    assert lane is not None
    assert lane.points[:, 0].min() >= 0
    y_exit = 230 + (2 - np.sqrt(4 - 4 * 4e-4 * 640)) / (2 * 4e-4)   # where L2's x reaches 0
    assert lane.points[:, 1].max() == pytest.approx(y_exit, abs=5)


def test_missing_slots_are_absent():
    ext = LaneExtractor(SPEC, W, H)
    res = ext({"lane_prob": render({"L1": LINES["L1"], "R1": LINES["R1"]}),
               "lane_exist": np.array([[0.1, 0.9, 0.9, 0.1]])}, 0)
    assert [lane.slot for lane in res.lanes] == ["L1", "R1"]
    assert res.ego_polygon is not None and res.ego_polygon.dtype == np.int32


def test_exist_gating():
    prob = render({"L1": LINES["L1"], "R1": LINES["R1"]})
    exist = np.array([[0.9, 0.3, 0.9, 0.9]], np.float32)
    res = LaneExtractor(SPEC, W, H)({"lane_prob": prob, "lane_exist": exist}, 0)
    assert [lane.slot for lane in res.lanes] == ["R1"]
    assert res.ego_polygon is None
    res = LaneExtractor(SPEC, W, H, exist_threshold=0.2)({"lane_prob": prob, "lane_exist": exist}, 0)
    assert [lane.slot for lane in res.lanes] == ["L1", "R1"]


def test_without_exist_head_confidence_gates():
    spec = SPEC.replace(exist_output=None)
    weak = render({"L1": LINES["L1"]}, peak=0.4)
    assert LaneExtractor(spec, W, H)({"lane_prob": weak}, 0).lanes == []
    lanes = LaneExtractor(spec, W, H, exist_threshold=0.3)({"lane_prob": weak}, 0).lanes
    assert len(lanes) == 1 and lanes[0].exists == lanes[0].confidence


def test_too_few_rows_dropped():
    prob = render({"L1": LINES["L1"], "R1": LINES["R1"]}, rows=np.r_[100:103])
    prob[0, 50:60, :, 3] = render({"R1": LINES["R1"]})[0, 50:60, :, 3]   # R1: 10 rows
    res = LaneExtractor(SPEC, W, H)({"lane_prob": prob, "lane_exist": np.full((1, 4), 0.9)}, 0)
    assert [lane.slot for lane in res.lanes] == ["R1"]


def test_partial_line_keeps_observed_extent():
    prob = render({"R1": LINES["R1"]}, rows=np.r_[40:100])
    lane = LaneExtractor(SPEC, W, H)({"lane_prob": prob}, 0).lane("R1")
    fy = model_rows_to_frame_y()
    half_row = (fy[1] - fy[0]) / 2     # a model row stands for the frame rows around its centre
    assert lane.points[0, 1] == pytest.approx(fy[40] - half_row, abs=0.01)
    assert lane.points[-1, 1] == pytest.approx(fy[99] + half_row, abs=0.01)
    xs = tusimple_xs(lane, [100, fy[40] + 1, fy[99] - 1, 715])
    assert xs[0] == -2 and xs[3] == -2
    assert abs(xs[1] - LINES["R1"](fy[40] + 1)) <= 1 and abs(xs[2] - LINES["R1"](fy[99] - 1)) <= 1


def test_outlier_rows_rejected():
    prob = render({"L1": LINES["L1"]})
    # a few rows where the slot fires somewhere else entirely (a stray blob, no line there)
    prob[0, 60:63, :, 2] = 0
    prob[0, 60:63, 200:204, 2] = 0.95
    lane = LaneExtractor(SPEC, W, H)({"lane_prob": prob}, 0).lane("L1")
    assert max_error(lane, LINES["L1"]) < 1.0


def test_second_blob_in_row_ignored():
    prob = render({"R1": LINES["R1"]})
    prob[0, :, 10:12, 3] = 0.35   # weak leakage far from the line on every row
    lane = LaneExtractor(SPEC, W, H)({"lane_prob": prob}, 0).lane("R1")
    assert max_error(lane, LINES["R1"]) < 1.0


def test_nchw_output_gives_same_lanes():
    prob = render(LINES)
    nhwc = LaneExtractor(SPEC, W, H)({"lane_prob": prob}, 0)
    spec = SPEC.replace(output_layout="NCHW")
    nchw = LaneExtractor(spec, W, H)({"lane_prob": np.ascontiguousarray(prob.transpose(0, 3, 1, 2))}, 0)
    assert [lane.slot for lane in nchw.lanes] == [lane.slot for lane in nhwc.lanes]
    for a, b in zip(nhwc.lanes, nchw.lanes):
        np.testing.assert_allclose(a.points, b.points, atol=1e-3)


def test_output_of_other_size_and_float16():
    spec = SPEC.replace(input_height=64, input_width=160)
    prob = render(LINES, spec=spec, sigma=0.6).astype(np.float16)
    res = LaneExtractor(SPEC, W, H)({"lane_prob": prob}, 0)   # spec says 128x320, output is 64x160
    assert len(res.lanes) == 4
    for lane in res.lanes:
        assert max_error(lane, LINES[lane.slot]) < 2.0


def test_repeated_calls_reuse_buffers_and_agree():
    ext = LaneExtractor(SPEC, W, H)
    a = ext({"lane_prob": render(LINES)}, 0)
    ext({"lane_prob": render({"L1": LINES["L1"]})}, 1)
    b = ext({"lane_prob": render(LINES)}, 2)
    for la, lb in zip(a.lanes, b.lanes):
        np.testing.assert_array_equal(la.points, lb.points)


# ---- ego_area -----------------------------------------------------------------------------------
EGO = ModelSpec(name="mlnd", input_height=80, input_width=160, crop_top=0.0, output_kind="ego_area",
                seg_output="ego", exist_output=None, class_names=("ego_lane",))


def test_ego_area_boundaries_and_polygon():
    h, w = 80, 160
    ys = (np.arange(h) + 0.5) * H / h - 0.5
    left = line(-1.2)(ys)
    right = line(1.2)(ys)
    cols = (np.arange(w) + 0.5) * W / w - 0.5
    area = ((cols[None, :] >= left[:, None]) & (cols[None, :] <= right[:, None])).astype(np.float32)
    area[:36] = 0          # above the horizon nothing
    area[5, 5] = 1.0       # a speck: not the ego lane
    res = LaneExtractor(EGO, W, H)({"ego": 0.8 * area[None, :, :, None]}, 3)
    assert [lane.slot for lane in res.lanes] == ["L1", "R1"]
    sx = W / w
    assert max_error(res.lane("L1"), line(-1.2)) <= sx
    assert max_error(res.lane("R1"), line(1.2)) <= sx
    assert res.lane("L1").confidence == pytest.approx(0.8)
    poly = res.ego_polygon
    assert poly is not None and poly.dtype == np.int32 and poly[:, 1].min() > ys[35]
    assert poly[:, 0].min() >= 0 and poly[:, 0].max() <= W - 1


def test_ego_area_empty():
    res = LaneExtractor(EGO, W, H)({"ego": np.zeros((1, 80, 160, 1), np.float32)}, 0)
    assert res.lanes == [] and res.ego_polygon is None


# ---- bad input ----------------------------------------------------------------------------------
def test_missing_output_named():
    with pytest.raises(InputError, match="'lane_prob'.*missing"):
        LaneExtractor(SPEC, W, H)({"other": np.zeros((1, 128, 320, 5))}, 0)


def test_wrong_channel_count_named():
    with pytest.raises(InputError, match="expected 5 channels"):
        LaneExtractor(SPEC, W, H)({"lane_prob": np.zeros((1, 128, 320, 3))}, 0)


@pytest.mark.parametrize("kwargs", [{"threshold": 1.5}, {"frame_width": 0}, {"poly_degree": 7},
                                    {"min_outer_gap": -0.1}, {"min_outer_gap": float("nan")}])
def test_bad_parameters(kwargs):
    args = {"spec": SPEC, "frame_width": W, "frame_height": H}
    args.update(kwargs)
    with pytest.raises(InputError):
        LaneExtractor(**args)


def test_tusimple_xs_frame_bounds():
    lane = Lane("R1", np.array([[1270.0, 400], [1290.0, 700]], np.float32), 1.0, 1.0)
    assert tusimple_xs(lane, [300, 400, 550, 700], frame_width=1280) == [-2, 1270, -2, -2]
    assert tusimple_xs(lane, [400, 550], frame_width=1280) == [1270, -2]
    assert tusimple_xs(lane, [400, 550]) == [1270, 1280]


def test_ego_area_touching_the_border_is_not_a_lane_there():
    h, w = 80, 160
    ys = (np.arange(h) + 0.5) * H / h - 0.5
    cols = (np.arange(w) + 0.5) * W / w - 0.5
    left = line(-3.0)(ys)     # leaves the image on the left near the bottom
    right = line(1.0)(ys)
    area = ((cols[None, :] >= left[:, None]) & (cols[None, :] <= right[:, None])).astype(np.float32)
    area[:36] = 0
    res = LaneExtractor(EGO, W, H)({"ego": area[None, :, :, None]}, 0)
    l1 = res.lane("L1")
    assert max_error(l1, line(-3.0)) <= W / w
    assert l1.points[:, 1].max() < 230 + 640 / 3.0 + 10   # stops where the line leaves the image


def test_outlier_rows_do_not_extend_the_line():
    """A far-off blob in rows above the line's top must neither bend the line nor stretch its
    extent up to the blob."""
    f = LINES["L1"]
    seg = render({"L1": f}, rows=slice(40, 128))
    seg[0, 5:9, 250:253, 2] = 0.95          # L1 "seen" on a tree, far right, near the top
    seg[0, 5:9, 250:253, 0] = 0.05
    ext = LaneExtractor(SPEC, W, H)
    res = ext({"lane_prob": seg, "lane_exist": np.full((1, 4), 0.9, np.float32)}, 0)
    (lane,) = res.lanes
    assert max_error(lane, f) < 1.5
    assert lane.points[:, 1].min() > model_rows_to_frame_y()[38]


def test_stray_blob_in_the_lowest_rows_does_not_lose_the_line():
    """The walk along a line used to start at the lowest row only: a speck there (the slot
    firing beside the line, on the bonnet edge or a road mark) made every row above it look
    discontinuous and the whole line was dropped. Seen on a real frame; the walk now also
    starts from rows along the slot and keeps the start that explains the most rows."""
    f = LINES["L1"]
    seg = render({"L1": f})
    seg[0, 122:128, :, 2] = 0                 # the line's lowest 6 rows replaced by a blob
    seg[0, 122:128, 5:8, 2] = 0.95            # far left of where the line is there
    seg[0, :, :, 0] = np.clip(1 - seg[0, :, :, 1:].sum(axis=2), 0, 1)
    res = LaneExtractor(SPEC, W, H)({"lane_prob": seg, "lane_exist": np.full((1, 4), 0.9)}, 0)
    lane = res.lane("L1")
    assert lane is not None
    assert max_error(lane, f) < 1.5
    # the extent ends where the line was seen, not at the blob
    assert lane.points[-1, 1] < model_rows_to_frame_y()[122]


def test_continuous_rows_keeps_the_longest_consistent_run():
    from lanecam.pipeline.lanes.extract import continuous_rows

    rows = np.arange(40)
    cols = 100.0 - 1.1 * rows                 # a straight line in model columns
    cols[36:] = [80.0, 79.5, 79.0, 78.6]       # the last rows jump to a blob
    keep = continuous_rows(rows, cols)
    assert keep[:36].all() and not keep[36:].any()
    # without a blob, everything is kept, from the bottom as before
    assert continuous_rows(rows, 100.0 - 1.1 * rows).all()
    assert continuous_rows(np.array([], int), np.array([])).shape == (0,)


def test_short_fragment_is_not_a_lane():
    """A line seen on 6 model rows (a fragment at the frame's edge) is dropped; 10 rows stay."""
    prob = render({"L2": LINES["L2"], "R2": LINES["R2"]}, rows=np.r_[60:66])
    prob[0, 60:70, :, 4] = render({"R2": LINES["R2"]})[0, 60:70, :, 4]    # R2: 10 rows
    res = LaneExtractor(SPEC, W, H)({"lane_prob": prob, "lane_exist": np.full((1, 4), 0.9)}, 0)
    assert [lane.slot for lane in res.lanes] == ["R2"]
    # the old default of 4 rows kept the fragment
    res4 = LaneExtractor(SPEC, W, H, min_rows=4)({"lane_prob": prob,
                                                  "lane_exist": np.full((1, 4), 0.9)}, 0)
    assert [lane.slot for lane in res4.lanes] == ["L2", "R2"]


def _slots(lines, **kwargs):
    ext = LaneExtractor(SPEC, W, H, **kwargs)
    res = ext({"lane_prob": render(lines), "lane_exist": np.full((1, 4), 0.9, np.float32)}, 0)
    return [lane.slot for lane in res.lanes]


def test_outer_line_hugging_its_ego_line_is_dropped():
    # R2 0.06 ego widths right of R1: no lane is that narrow (the ego line found twice)
    hugging = {**LINES, "R2": line(0.9, 4e-4)}
    assert _slots(hugging) == ["L2", "L1", "R1"]
    assert _slots(hugging, min_outer_gap=0) == list(SLOTS)
    # an L2 on the wrong side of L1 (inside the ego lane) goes too
    assert _slots({**LINES, "L2": line(-0.6, 4e-4)}) == ["L1", "R1", "R2"]


def test_narrow_real_neighbour_lane_is_kept():
    # half an ego lane wide: narrower than any training label's, still a lane
    assert _slots({**LINES, "R2": line(1.6, 4e-4)}) == list(SLOTS)
    # without both ego lines there is no width to compare with: the outer line stays
    no_r1 = {k: v for k, v in LINES.items() if k != "R1"}
    assert _slots({**no_r1, "L2": line(-0.9, 4e-4)}) == ["L2", "L1", "R2"]
