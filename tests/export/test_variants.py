"""FP16 and Q/DQ INT8 variants, calibration sets, and the variant report (no TensorFlow)."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, numpy_helper  # noqa: E402

from lanecam.calibration.int8 import CalibrationSet, preprocess_frame, sample_frames  # noqa: E402
from lanecam.pipeline.errors import InputError  # noqa: E402
from lanecam.tools.export.fp16 import convert_to_fp16  # noqa: E402
from lanecam.tools.export.int8 import quantize_qdq  # noqa: E402
from lanecam.tools.export.variants import VariantReport, compare_variants, format_reports  # noqa: E402
from lanecam.tools.export.verify import ort_session  # noqa: E402
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



def test_fp16_keeps_resize_scales_fp32(tmp_path):
    src = models.tiny_onnx(tmp_path / "m.onnx", nearest_tf=True)
    half = convert_to_fp16(onnx.load(str(src)))   # passes the checker: scales stay float32
    x = np.random.default_rng(1).random((1, models.H, models.W, 3), dtype=np.float32)
    for a, b in zip(_run(src, x), _run(half, x)):
        assert np.max(np.abs(a - b)) < 5e-3


@pytest.mark.filterwarnings("ignore:the float32 number .* will be truncated")
def test_fp16_saturates_constants_at_the_float16_range():
    from onnx import helper

    big = numpy_helper.from_array(np.array([1e9], np.float32), "big")
    graph = helper.make_graph(
        [helper.make_node("Mul", ["image", "big"], ["y"])], "g",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])], [big])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    half = convert_to_fp16(model)
    assert numpy_helper.to_array(half.graph.initializer[0]).tolist() == [65504.0]
    y = _run(half, np.array([[1e-3, -1e-3]], np.float32))[0]
    assert np.allclose(y, [[65.5, -65.5]], rtol=1e-3)  # not inf, not the converter's 1e4


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
    # held-out frames of the calibration distribution (same generator, other seed), judged by
    # the Q/DQ arithmetic itself: ONNX Runtime's fused int8 CPU kernels saturate on x86
    # without VNNI, which says nothing about the model (see ort_session)
    held_out = CalibrationSet(models.frames(tmp_path / "h", 8, seed=11), models.SPEC, 8)
    fp32, int8 = ort_session(src), ort_session(out, fuse_qdq=False)
    for x in held_out:
        seg32 = fp32.run(["lane_prob"], {"image": x})[0]
        seg8 = int8.run(["lane_prob"], {"image": x})[0]
        assert np.max(np.abs(seg32 - seg8)) < 0.03
        assert np.mean(seg32.argmax(-1) == seg8.argmax(-1)) > 0.95


def _scales(path):
    inits = onnx.load(str(path)).graph.initializer
    return {i.name: numpy_helper.to_array(i).ravel()[0] for i in inits
            if i.name.endswith("_scale") and numpy_helper.to_array(i).size == 1}


def test_entropy_calibration_is_not_minmax_in_disguise(tmp_path):
    """quantize_static alone runs the entropy calibrator with 128 bins for 128 levels: one
    candidate threshold, the full range, i.e. min/max. Ours must really clip."""
    src = models.tiny_onnx(tmp_path / "m.onnx")
    calib = CalibrationSet(models.frames(tmp_path / "f", 8), models.SPEC, 8)
    minmax = _scales(quantize_qdq(src, tmp_path / "mm.onnx", calib, "minmax"))
    entropy = _scales(quantize_qdq(src, tmp_path / "en.onnx", calib, "entropy"))
    assert minmax.keys() == entropy.keys()
    assert all(entropy[k] <= minmax[k] * (1 + 1e-6) for k in minmax)  # never a wider range
    assert any(entropy[k] < 0.95 * minmax[k] for k in minmax)         # some tensor is clipped
    inits = onnx.load(str(tmp_path / "en.onnx")).graph.initializer
    zps = [numpy_helper.to_array(i) for i in inits if "zero_point" in i.name]
    assert zps and all(z.dtype == np.int8 and not z.any() for z in zps)


def test_int8_variant_report_uses_qdq_arithmetic(tmp_path):
    src = models.tiny_onnx(tmp_path / "m.onnx")
    q = quantize_qdq(src, tmp_path / "q.onnx",
                     CalibrationSet(models.frames(tmp_path / "f"), models.SPEC, 4))
    xs = list(CalibrationSet(models.frames(tmp_path / "h", 4, seed=11), models.SPEC, 4))
    fp32, int8 = compare_variants(src, {"int8": q}, models.SPEC, xs, repeats=1)
    assert "cpu_kernel_agreement" not in fp32.extra
    assert 0 < int8.max_abs_diff < 0.03 and int8.agreement > 0.95
    assert 0 <= int8.extra["cpu_kernel_agreement"] <= 1  # machine dependent (VNNI or not)


def test_report_notes_cpu_kernel_saturation():
    rows = [VariantReport("fp32", "a.onnx"),
            VariantReport("int8", "b.onnx", 0.02, 1e-3, 0.99, 1.0,
                          extra={"cpu_kernel_agreement": 0.41})]
    text = format_reports(rows, models.SPEC)
    assert "int8: ONNX Runtime's integer CPU kernels agree only 41.00%" in text
    rows[1].extra["cpu_kernel_agreement"] = 0.985
    assert "note:" not in format_reports(rows, models.SPEC)


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


def test_tusimple_scores_qdq_variants_with_their_own_arithmetic(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import lanecam.tools.evaluate.datasets as datasets
    from lanecam.tools.export.variants import QdqReferenceEngine

    src = models.tiny_onnx(tmp_path / "m.onnx")
    q = quantize_qdq(src, tmp_path / "q.onnx",
                     CalibrationSet(models.frames(tmp_path / "f"), models.SPEC, 4))
    seen = {}

    def fake_evaluate(predictor, folder):
        engine = predictor.engine
        x = next(iter(CalibrationSet(tmp_path / "f", models.SPEC, 1)))
        seen[engine.name] = engine.infer(x)["lane_prob"]
        return SimpleNamespace(score=SimpleNamespace(to_dict=lambda: {"accuracy": 0.5}))

    monkeypatch.setattr(datasets, "evaluate_tusimple", fake_evaluate)
    xs = list(CalibrationSet(tmp_path / "f", models.SPEC, 2))
    reports = compare_variants(src, {"int8": q}, models.SPEC, xs, repeats=1,
                               tusimple_dir=tmp_path)
    assert set(seen) == {"onnxruntime", QdqReferenceEngine.name}
    assert all(r.tusimple == {"accuracy": 0.5} for r in reports)
    want = ort_session(q, fuse_qdq=False).run(["lane_prob"], {"image": xs[0]})[0]
    np.testing.assert_array_equal(seen[QdqReferenceEngine.name], want)


def test_runtime_engine_runs_qdq_models_as_tensorrt_would(tmp_path):
    """OnnxRuntimeEngine (what `lanecam run` uses) must not fall into the saturating fused
    int8 kernels: its output equals the unfused Q/DQ arithmetic, and it says int8."""
    from lanecam.engines.onnxruntime_engine import OnnxRuntimeEngine

    src = models.tiny_onnx(tmp_path / "m.onnx")
    out = quantize_qdq(src, tmp_path / "q.onnx",
                       CalibrationSet(models.frames(tmp_path / "f"), models.SPEC, 4))
    x = next(iter(CalibrationSet(models.frames(tmp_path / "h", 2, seed=5), models.SPEC, 2)))
    want = ort_session(out, fuse_qdq=False).run(["lane_prob"], {"image": x})[0]
    with OnnxRuntimeEngine(out) as eng:
        got = eng.infer(x)["lane_prob"]
        assert eng.precision == "int8"
    np.testing.assert_allclose(got, want, atol=1e-5)
    with OnnxRuntimeEngine(src) as eng:
        assert eng.precision == "fp32"
