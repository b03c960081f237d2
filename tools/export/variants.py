"""Compare precision variants (FP16, INT8) of an exported model with its FP32 original on a CPU:
output change on real frames, optional TuSimple accuracy, and model-only latency."""

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from lanecam.engines.base import Engine
from lanecam.engines.modelspec import ModelSpec
from lanecam.engines.qdq import is_qdq
from lanecam.tools.export.verify import ort_session

__all__ = ["VariantReport", "compare_variants", "format_reports", "QdqReferenceEngine"]


@dataclass
class VariantReport:
    """How one variant differs from FP32 and how fast it runs on this CPU.

    ``agreement``: lane_slots -> share of pixels with the same argmax class as FP32;
    ego_area -> IoU of the (prob > 0.5) masks with FP32's. ``latency_ms``: median model-only
    time per frame, ONNX Runtime CPU, one thread, measured interleaved with the other variants.

    For a Q/DQ (INT8) variant the differences and ``agreement`` come from the Q/DQ arithmetic
    itself (ONNX Runtime without Q/DQ fusion: what TensorRT computes), the latency from ONNX
    Runtime's integer CPU kernels, and ``extra["cpu_kernel_agreement"]`` is the agreement of
    those kernels' outputs, which differs on x86 CPUs without VNNI (int16 saturation, see
    ``lanecam.tools.export.verify.ort_session``).
    """

    name: str
    path: str
    max_abs_diff: float = 0.0
    mean_abs_diff: float = 0.0
    agreement: float = 1.0
    latency_ms: float = float("nan")
    tusimple: Optional[Dict[str, float]] = None
    extra: dict = field(default_factory=dict)


def _agreement(spec: ModelSpec, ref: np.ndarray, got: np.ndarray) -> float:
    axis = -1 if spec.output_layout == "NHWC" else 1
    if spec.output_kind == "lane_slots":
        return float(np.mean(ref.argmax(axis) == got.argmax(axis)))
    a, b = ref > 0.5, got > 0.5
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def compare_variants(fp32_path, variants: Dict[str, str], spec: ModelSpec,
                     tensors: Sequence[np.ndarray], repeats: int = 3,
                     tusimple_dir=None) -> List[VariantReport]:
    """Reports for "fp32" and each ``variants`` name -> path, on the preprocessed ``tensors``
    (in the model's layout). Latencies are medians over ``repeats`` rounds of all tensors."""
    paths = {"fp32": str(fp32_path), **{k: str(v) for k, v in variants.items()}}
    sessions = {k: ort_session(p) for k, p in paths.items()}
    # Q/DQ models are judged unfused (their own arithmetic), timed with the fused CPU kernels
    exact = {k: ort_session(p, fuse_qdq=False) for k, p in paths.items() if is_qdq(p)}
    reports = {k: VariantReport(k, p) for k, p in paths.items()}
    seg = spec.seg_output
    diffs = {k: [] for k in paths}
    agree = {k: [] for k in paths}
    kernel_agree = {k: [] for k in exact}
    times = {k: [] for k in paths}
    for s in list(sessions.values()) + list(exact.values()):
        s.run([seg], {spec.input_name: tensors[0]})  # warm-up: first runs allocate, pick kernels
    for _ in range(repeats):
        for x in tensors:
            feed = {spec.input_name: x}
            ref = None
            for k, s in sessions.items():
                t0 = time.perf_counter()
                out = s.run([seg], feed)[0]
                times[k].append((time.perf_counter() - t0) * 1e3)
                if ref is None:
                    ref = out
                if k in exact:
                    kernel_agree[k].append(_agreement(spec, ref, out))
                    out = exact[k].run([seg], feed)[0]
                diffs[k].append(np.abs(out.astype(np.float64) - ref))
                agree[k].append(_agreement(spec, ref, out))
    for k, r in reports.items():
        r.max_abs_diff = float(max(d.max() for d in diffs[k]))
        r.mean_abs_diff = float(np.mean([d.mean() for d in diffs[k]]))
        r.agreement = float(np.mean(agree[k]))
        r.latency_ms = float(np.median(times[k]))
        if k in exact:
            r.extra["cpu_kernel_agreement"] = float(np.mean(kernel_agree[k]))
    if tusimple_dir is not None:
        _tusimple(reports, tusimple_dir, spec)
    return list(reports.values())


class QdqReferenceEngine(Engine):
    """A Q/DQ model run by ONNX Runtime without Q/DQ fusion (its own int8 arithmetic, as
    TensorRT computes it; see ``lanecam.tools.export.verify.ort_session``), for accuracy only.

    ``infer()`` returns new arrays on every call.
    """

    name = "onnxruntime-qdq"

    def __init__(self, model_path, spec: ModelSpec):
        self.model_path = str(model_path)
        self.spec = spec
        self.precision = "int8"
        self.providers = ["CPUExecutionProvider"]
        self._session = None

    def _open(self) -> None:
        self._session = ort_session(self.model_path, fuse_qdq=False)

    def _close(self) -> None:
        self._session = None

    def _infer(self, tensor: np.ndarray) -> Dict[str, np.ndarray]:
        outs = self._session.run(None, {self.spec.input_name: tensor})
        return {o.name: a for o, a in zip(self._session.get_outputs(), outs)}


def _tusimple(reports: Dict[str, VariantReport], folder, spec: ModelSpec) -> None:
    """TuSimple accuracy of each variant through the evaluation tool (needs the engine stack);
    Q/DQ variants through ``QdqReferenceEngine``, like their other accuracy figures."""
    from lanecam.tools.evaluate.datasets import evaluate_tusimple
    from lanecam.tools.evaluate.predict import Predictor

    for r in reports.values():
        engine = QdqReferenceEngine(r.path, spec) if is_qdq(r.path) else "onnxruntime"
        with Predictor(r.path, engine=engine) as predictor:
            score = evaluate_tusimple(predictor, Path(folder)).score.to_dict()
        r.tusimple = {k: v for k, v in score.items() if isinstance(v, (int, float))}


def format_reports(reports: Sequence[VariantReport], spec: ModelSpec) -> str:
    """A plain-text table, FP32 first."""
    what = "argmax agree" if spec.output_kind == "lane_slots" else "mask IoU"
    width = max([8] + [len(r.name) for r in reports])
    lines = [f"{'variant':{width}} {'max|d|':>9} {'mean|d|':>9} {what:>13} {'CPU ms':>8}  tusimple"]
    for r in reports:
        ts = ""
        if r.tusimple:
            ts = " ".join(f"{k}={v:.3f}" for k, v in r.tusimple.items() if k in ("accuracy", "fp", "fn"))
        lines.append(f"{r.name:{width}} {r.max_abs_diff:9.2e} {r.mean_abs_diff:9.2e} "
                     f"{100 * r.agreement:12.2f}% {r.latency_ms:8.2f}  {ts}")
    for r in reports:
        kernel = r.extra.get("cpu_kernel_agreement")
        if kernel is not None and abs(kernel - r.agreement) > 0.01:
            lines.append(f"note: {r.name}: ONNX Runtime's integer CPU kernels agree only "
                         f"{100 * kernel:.2f}% on this CPU (int16 saturation on x86 without "
                         "VNNI); the row above is the Q/DQ model's own arithmetic, which "
                         "TensorRT computes with int32 accumulation")
    return "\n".join(lines)
