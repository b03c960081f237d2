"""The heatmap runtime: spec validation, scores per window, frame geometry of the overlay."""

import numpy as np
import pytest

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.heatmap import HeatmapModel, HeatmapOverlay, HeatmapSpec, cell_to_frame
from lanecam.pipeline.heatmap import channel_softmax

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from tests.heatmap.tinyheat import make_heatmap_model  # noqa: E402

SPEC = HeatmapSpec(name="tiny", input_height=40, input_width=64, color="bgr", scale=1 / 255,
                   crop_top=0.5, window=(8, 8), stride=(4, 4), class_index=1)


# changes to SPEC, words of the error
BAD_SPECS = [
    (dict(window=(48, 8)), "at most the input size"),
    (dict(stride=(0, 2)), "two positive integers"),
    (dict(color="gray"), "rgb or bgr"),
    (dict(scale=0), "a positive number"),
    (dict(crop_top=0.6, crop_bottom=0.4), "less than 0.95"),
    (dict(class_index=-1), "non-negative integer"),
    (dict(probabilities="yes"), "true or false"),
]


@pytest.mark.parametrize("changes,words", BAD_SPECS, ids=[b[1] for b in BAD_SPECS])
def test_bad_spec_refused(changes, words):
    fields = {**SPEC.__dict__, **changes}
    with pytest.raises(InputError, match=words):
        HeatmapSpec(**fields)


def test_spec_json_round_trip_and_unknown_key():
    again = HeatmapSpec.from_json(SPEC.to_json())
    assert again == SPEC and again.map_size() == (9, 15)
    with pytest.raises(InputError, match="unknown keys"):
        HeatmapSpec.from_json('{"name": "x", "colour": "rgb"}')


def test_channel_softmax_is_per_cell():
    logits = np.random.default_rng(0).normal(size=(3, 4, 2)).astype(np.float32)
    p = channel_softmax(logits.copy())
    np.testing.assert_allclose(p.sum(-1), 1.0, atol=1e-6)
    np.testing.assert_allclose(p[..., 1], 1 / (1 + np.exp(logits[..., 0] - logits[..., 1])),
                               atol=1e-6)


def _frame_with_bright_block(h=80, w=128, rows=(60, 76), cols=(40, 72)):
    """Dark frame, a block bright in the B channel (the model's channel 0 in BGR order)."""
    frame = np.full((h, w, 3), 20, np.uint8)
    frame[rows[0]:rows[1], cols[0]:cols[1], 0] = 250
    return frame


@pytest.mark.parametrize("probabilities", [True, False], ids=["softmax in model", "logits"])
def test_scores_follow_the_windows(tmp_path, probabilities):
    spec = HeatmapSpec(**{**SPEC.__dict__, "probabilities": probabilities})
    model = HeatmapModel(make_heatmap_model(tmp_path / "h.onnx", spec), 128, 80).open()
    # the crop keeps frame rows 40..80 (input rows 0..40, 1:1); the block is input rows 20..36,
    # cols 20..36 after the 128 -> 64 resize
    scores = model.scores(_frame_with_bright_block()).copy()
    assert scores.shape == (9, 15)
    inside = [(i, j) for i in range(9) for j in range(15)
              if 20 <= 4 * i and 4 * i + 8 <= 36 and 20 <= 4 * j and 4 * j + 8 <= 36]
    outside = [(i, j) for i in range(9) for j in range(15)
               if 4 * i + 8 <= 20 or 4 * j + 8 <= 20 or 4 * j >= 36]
    assert inside and outside
    assert min(scores[c] for c in inside) > 0.99
    assert max(scores[c] for c in outside) < 0.01


def test_overlay_colours_only_where_scores_are_high(tmp_path):
    model = HeatmapModel(make_heatmap_model(tmp_path / "h.onnx", SPEC), 128, 80)
    calls = []

    class Inner:
        def draw(self, frame, result, hud):
            calls.append(frame.copy())

    frame = _frame_with_bright_block()
    clean = frame.copy()
    HeatmapOverlay(model, inner=Inner(), alpha=0.6).draw(frame, None, {})
    changed = np.any(frame != clean, axis=2)
    assert changed[:40].sum() == 0            # above the crop: untouched
    assert changed[62:74, 44:68].all()        # inside the bright block: coloured
    assert changed[40:52, :].sum() == 0       # cells far from it: untouched
    assert len(calls) == 1 and np.array_equal(calls[0], frame)  # inner drew after the blend


def test_cell_geometry_maps_window_centres():
    m = cell_to_frame(SPEC, 128, 80)
    # cell (0, 0): window input rows/cols 0..8, centre 4 (pixel 3.5); frame x = 4*2 - 0.5,
    # y = 40 + 4*1 - 0.5
    np.testing.assert_allclose(m @ [0, 0, 1], [7.5, 43.5])
    np.testing.assert_allclose(m @ [1, 1, 1], [7.5 + 8, 43.5 + 4])


# what is wrong with the file, words of the error
BAD_FILES = [
    ("missing", "model file not found"),
    ("not onnx", "not a loadable ONNX model"),
    ("no metadata", "no heatmap description"),
    ("wrong map size", "expected (1, 17, 29, classes)"),
]


@pytest.mark.parametrize("case,words", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_model_files(tmp_path, case, words):
    path = tmp_path / "h.onnx"
    if case == "not onnx":
        path.write_bytes(b"not a model")
    elif case == "no metadata":
        make_heatmap_model(path, SPEC, embed=False)
    elif case == "wrong map size":
        make_heatmap_model(path, SPEC, out_hw=(9, 15))
        spec = HeatmapSpec(**{**SPEC.__dict__, "stride": (2, 2)})
        import onnx

        model = onnx.load(str(path))
        model.metadata_props[0].value = spec.to_json()
        onnx.save(model, str(path))
    with pytest.raises(InputError, match=words.replace("(", r"\(").replace(")", r"\)")):
        HeatmapModel(path, 128, 80).open()


def test_the_model_is_an_engine_fed_by_the_one_preprocessor(tmp_path):
    from lanecam.engines import Engine
    from lanecam.pipeline.preprocess import Preprocessor

    spec = HeatmapSpec(**{**SPEC.__dict__, "probabilities": True})
    model = HeatmapModel(make_heatmap_model(tmp_path / "h.onnx", spec), 128, 80)
    assert isinstance(model.engine, Engine) and model.engine.spec == spec
    for frame in (_frame_with_bright_block(), _frame_with_bright_block(h=160, w=256,
                                                                        rows=(120, 152))):
        got = model.scores(frame).copy()  # a new frame size gets its own preprocessor
        tensor = Preprocessor(spec, frame.shape[1], frame.shape[0])(frame)
        want = model.engine.infer(tensor)["scores"][0, ..., 1]
        np.testing.assert_array_equal(got, want)
        assert model.last_latency_ms > 0
    model.close()
    model.close()


def test_a_sidecar_description_is_found_too(tmp_path):
    from lanecam.engines.inputspec import spec_path_for

    path = make_heatmap_model(tmp_path / "h.onnx", SPEC, embed=False)
    SPEC.save(spec_path_for(path))
    assert HeatmapModel(path, 128, 80).spec == SPEC
