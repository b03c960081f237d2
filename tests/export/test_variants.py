"""FP16 and Q/DQ INT8 variants, calibration sets, and the variant report (no TensorFlow)."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, numpy_helper  # noqa: E402

from calibration.int8 import CalibrationSet, preprocess_frame, sample_frames  # noqa: E402
from pipeline.errors import InputError  # noqa: E402
from tools.export.fp16 import convert_to_fp16  # noqa: E402
from tools.export.int8 import quantize_qdq  # noqa: E402
from tools.export.variants import compare_variants, format_reports  # noqa: E402
from trt import models  # noqa: E402


def _run(path_or_model, x):
    data = path_or_model.SerializeToString() if hasattr(path_or_model, "graph") else str(path_or_model)
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, {"image": x})


def test_fp16_keeps_fp32_io_and_is_close(tmp_path):
    src = models.tiny_onnx(tmp_path / "m.onnx")
    half = convert_to_fp16(onnx.load(str(src)))
    assert all(i.data_type != TensorProto.FLOAT for i in half.graph.initializer)
    for v in list(half.graph.input) + list(half.graph.output):
        assert v.type.tensor_type.elem_type == TensorProto.FLOAT
    x = np.random.default_rng(0).random((1, models.H, models.W, 3), dtype=np.float32)
    for a, b in zip(_run(src, x), _run(half, x)):
        assert b.dtype == np.float32
        assert 0 < np.max(np.abs(a - b)) < 5e-3  # really computed in half precision


def test_int8_is_symmetric_qdq_with_float_weights(tmp_path):
    src = models.tiny_onnx(tmp_path / "m.onnx")
    out = quantize_qdq(src, tmp_path / "q.onnx",
                       CalibrationSet(models.frames(tmp_path / "f"), models.SPEC, 4))
    m = onnx.load(str(out))
    ops = [n.op_type for n in m.graph.node]
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops
    assert "QLinearConv" not in ops  # Q/DQ format, which TensorRT reads
    zps = [numpy_helper.to_array(i) for i in m.graph.initializer if "zero_point" in i.name]
    assert zps and all(z.dtype == np.int8 and not z.any() for z in zps)
    assert {p.key for p in m.metadata_props} >= {"lanecam.modelspec"}
    x = np.random.default_rng(1).random((1, models.H, models.W, 3), dtype=np.float32)  # in range
    seg32, seg8 = _run(src, x)[0], _run(out, x)[0]
    assert np.mean(seg32.argmax(-1) == seg8.argmax(-1)) > 0.8


def test_variant_report(tmp_path):
    src = models.tiny_onnx(tmp_path / "m.onnx")
    half = tmp_path / "h.onnx"
    onnx.save(convert_to_fp16(onnx.load(str(src))), str(half))
    xs = [np.random.default_rng(i).random((1, models.H, models.W, 3), dtype=np.float32)
          for i in range(3)]
    reports = compare_variants(src, {"fp16": half}, models.SPEC, xs, repeats=1)
    assert [r.name for r in reports] == ["fp32", "fp16"]
    assert reports[0].max_abs_diff == 0 and reports[0].agreement == 1
    assert 0 < reports[1].max_abs_diff < 5e-3 and reports[1].agreement > 0.95
    assert "argmax agree" in format_reports(reports, models.SPEC)


def test_calibration_from_video_and_folder(tmp_path, shared_data):
    video = shared_data / "videos" / "udacity_vehicle_test.mp4"
    frames = sample_frames(video, 5)
    assert len(frames) == 5 and frames[0].shape == (720, 1280, 3)
    assert not np.array_equal(frames[0], frames[-1])  # spread over the video
    calib = CalibrationSet(shared_data / "images", models.SPEC, 8)
    assert len(calib) == 8 and calib.batch().shape == (8, models.H, models.W, 3)


def test_preprocess_follows_the_spec():
    frame = np.zeros((100, 200, 3), np.uint8)
    frame[:50] = (255, 0, 0)      # blue sky (BGR), cropped away by crop_top=0.5
    frame[50:] = (0, 0, 200)      # red road
    spec = models.SPEC.replace(crop_top=0.5, scale=1.0, mean=[100, 0, 0], std=[2, 1, 1],
                               layout="NCHW")
    x = preprocess_frame(frame, spec)
    assert x.shape == (1, 3, models.H, models.W)
    assert np.allclose(x[0, 0], (200 - 100) / 2) and np.allclose(x[0, 2], 0)  # R first (rgb)


@pytest.mark.parametrize("source, match", [("/nonexistent/dir", "no such file"),
                                           ("EMPTY", "found none")])
def test_bad_calibration_sources(tmp_path, source, match):
    if source == "EMPTY":
        source = tmp_path
    with pytest.raises(InputError, match=match):
        sample_frames(source, 4)
