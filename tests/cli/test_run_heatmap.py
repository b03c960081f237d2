"""``lanecam run --heatmap``: the classifier's score map is blended under the lanes, and only
where its cells score high; bad heatmap models and a run that draws nothing are refused."""

import cv2
import numpy as np
import pytest

from lanecam.pipeline.cli import main
from lanecam.pipeline.heatmap import HeatmapSpec

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from tests.heatmap.tinyheat import make_heatmap_model  # noqa: E402

# the small video is 160x96 grey stripes (0 / 200); the model sees its lower half at 80x24
SPEC = HeatmapSpec(name="tiny", input_height=24, input_width=80, color="bgr", crop_top=0.5,
                   window=(8, 8), stride=(4, 4))


def _images(folder):
    return [cv2.imread(str(p)) for p in sorted(folder.glob("*.jpg"))]


def test_heatmap_drawn_below_the_crop_only(tmp_path, capsys, small_video, tiny_model):
    heat = make_heatmap_model(tmp_path / "heat.onnx", SPEC, gain=-40.0)  # dark windows score high
    plain, hot = tmp_path / "plain", tmp_path / "hot"
    common = [str(small_video), "--model", str(tiny_model), "--threads", "1", "--no-hud"]
    assert main(["run", *common, "--images", str(plain), "--quiet"]) == 0
    assert main(["run", *common, "--images", str(hot), "--heatmap", str(heat)]) == 0
    err = capsys.readouterr().err
    assert "heatmap" in err and "5x19 cells, window 8x8, stride 4x4" in err
    a, b = _images(plain), _images(hot)
    assert len(a) == len(b) == 24
    diff = np.abs(a[5].astype(int) - b[5].astype(int)).max(axis=2)
    assert diff[:44].max() <= 12          # above the crop (JPEG noise only)
    assert (diff[52:90] > 40).mean() > 0.2  # the map's rows: coloured where dark


# how the run is set up, words of the one-line error
BAD = [
    ("no drawing sink", "--heatmap draws on the frames"),
    ("missing model", "model file not found"),
    ("no metadata", "no heatmap description"),
]


@pytest.mark.parametrize("case,words", BAD, ids=[b[0] for b in BAD])
def test_bad_heatmap_runs_exit_2(tmp_path, capsys, small_video, tiny_model, case, words):
    heat = tmp_path / "heat.onnx"
    if case != "missing model":
        make_heatmap_model(heat, SPEC, embed=case != "no metadata")
    sink = ["--lanes", str(tmp_path / "l.jsonl")] if case == "no drawing sink" else \
        ["-o", str(tmp_path / "o.mp4")]
    rc = main(["run", str(small_video), "--model", str(tiny_model), "--quiet", *sink,
               "--heatmap", str(heat)])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and words in err and len(err.splitlines()) == 1
