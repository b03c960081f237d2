"""``lanecam convolutionalize`` end to end: printed check, saved model, exit 2 on bad input."""

import numpy as np
import pytest

pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from lanecam.pipeline.cli import main  # noqa: E402
from tests.convolutionalize import classifiers as C  # noqa: E402

pytestmark = pytest.mark.tf


@pytest.fixture(scope="module")
def seed_file(tmp_path_factory):
    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("cls") / "seed.keras"
    C.seed_stack((24, 24, 3)).save(str(path))
    return path


def test_dense_map_written_and_checked(seed_file, tmp_path, capsys):
    out = tmp_path / "map.keras"
    assert main(["convolutionalize", str(seed_file), "-o", str(out),
                 "--input-size", "40x48"]) == 0
    text = capsys.readouterr().out
    diff = float(text.split("max |conv - classifier| = ")[1].split()[0])
    wdiff = float(text.split("max |map cell - classifier on its window| = ")[1].split()[0])
    assert diff <= 1e-5 and wdiff <= 1e-5
    assert "Dense(128) on 10x10x32 -> Conv2D(128, 10x10)" in text
    assert "output map 9x13x2" in text and "stride 2x2 px" in text
    model = keras.saving.load_model(str(out), compile=False)
    assert tuple(model.outputs[0].shape[1:]) == (9, 13, 2)
    probs = np.asarray(model(np.zeros((1, 40, 48, 3), np.float32)))
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-6)


# argv after the model, words of the one-line error
BAD = [
    (["-o", "{tmp}/x.onnx"], "expected a .keras or .h5 file name"),
    (["-o", "{tmp}/x.keras", "--input-size", "12by4"], "expected HxW"),
    (["-o", "{tmp}/x.keras", "--input-size", "16x16"], "at least the classifier's input size"),
    (["-o", "{tmp}/nodir/x.keras"], "does not exist"),
]


@pytest.mark.parametrize("argv,words", BAD, ids=[b[1] for b in BAD])
def test_bad_usage_exit_2(seed_file, tmp_path, capsys, argv, words):
    argv = [a.format(tmp=tmp_path) for a in argv]
    assert main(["convolutionalize", str(seed_file), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1


def test_unconvertible_model_exit_2_names_layer(tmp_path, capsys):
    path = tmp_path / "gap.keras"
    L = keras.layers
    keras.Sequential([keras.Input((16, 16, 3)), L.Conv2D(4, 3), L.GlobalAveragePooling2D(),
                      L.Dense(2)]).save(str(path))
    assert main(["convolutionalize", str(path), "-o", str(tmp_path / "o.keras")]) == 2
    err = capsys.readouterr().err.strip()
    assert "no Flatten" in err and "global_average_pooling2d" in err


def test_missing_model_exit_2(tmp_path, capsys):
    assert main(["convolutionalize", str(tmp_path / "none.h5"), "-o",
                 str(tmp_path / "o.keras")]) == 2
    assert "model file not found" in capsys.readouterr().err


def test_onnx_heatmap_model_runs_in_the_runtime(seed_file, tmp_path, capsys):
    """--onnx: the ONNX model carries its HeatmapSpec and the runtime's scores equal Keras's."""
    pytest.importorskip("tf2onnx")
    pytest.importorskip("onnxruntime")
    from lanecam.pipeline.heatmap import HeatmapModel

    out, onnx_out = tmp_path / "map.keras", tmp_path / "map.onnx"
    assert main(["convolutionalize", str(seed_file), "-o", str(out), "--input-size", "40x64",
                 "--onnx", str(onnx_out), "--crop-top", "0.5", "--color", "bgr"]) == 0
    text = capsys.readouterr().out
    assert float(text.split("max |ONNX Runtime - Keras| = ")[1].split(")")[0]) <= 1e-4
    heat = HeatmapModel(onnx_out, 128, 80)
    s = heat.spec
    assert (s.window, s.stride, s.crop_top, s.color, s.probabilities) == \
        ((24, 24), (2, 2), 0.5, "bgr", True)
    frame = np.random.default_rng(3).integers(0, 256, (80, 128, 3), dtype=np.uint8)
    scores = heat.scores(frame)
    assert scores.shape == (9, 21)
    model = keras.saving.load_model(str(out), compile=False)
    import cv2

    x = cv2.resize(frame[40:], (64, 40), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    want = np.asarray(model(x[None]))[0, :, :, 1]
    assert np.max(np.abs(scores - want)) <= 1e-4


def test_onnx_needs_fixed_size(seed_file, tmp_path, capsys):
    assert main(["convolutionalize", str(seed_file), "-o", str(tmp_path / "m.keras"),
                 "--onnx", str(tmp_path / "m.onnx")]) == 2
    assert "--onnx needs a fixed --input-size" in capsys.readouterr().err
