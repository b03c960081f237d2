"""The best FPS a pipeline of these stages could reach on this machine, and how close it came.

From the stage costs measured in the sequential run (one frame at a time, nothing else of
ours running), two limits:

- stage limit: every stage is one thread and handles one frame at a time, so the pipeline
  cannot finish frames faster than its slowest stage: ``1 / max(wall_i)``;
- core limit: all the stages' CPU work has to fit on the cores: ``cores / sum(cpu_i)``
  (CPU time includes helper threads such as ONNX Runtime's intra-op pool).

The bound is the lower of the two; efficiency is the pipelined FPS over it. Neither limit
knows about the GIL (Python code of different stages cannot overlap), memory bandwidth shared
between the cores, or other processes on the machine: an efficiency well below 1 points at
one of those (or at the pipeline's own overhead).
"""

from typing import Dict, Optional

__all__ = ["theoretical_bound", "BOUND_STAGES"]

BOUND_STAGES = ("source", "preprocess", "infer", "postprocess", "sink")


def theoretical_bound(stages: Dict[str, dict], cores: int,
                      other_cores: Optional[float] = None) -> Optional[dict]:
    """The bound from sequential stage costs.

    Args:
        stages: the sequential report's ``stages``
            (``{name: {"wall_ms": {"mean_ms": ...}, "cpu_ms_mean": ...}}``); the pipeline's
            stages (``BOUND_STAGES``) are used.
        cores: CPU cores available to the process.
        other_cores: cores other processes kept busy during the pipelined run; when given,
            ``under_load`` says what the core limit was with the rest (for reading numbers
            taken on a busy machine; the bound itself assumes the cores are ours).

    Returns:
        ``{"fps", "limited_by", "stage_limit_fps", "core_limit_fps", "slowest_stage", "cores",
        "stage_costs_ms": {name: {"wall", "cpu"}}}`` or None when costs are missing.
    """
    costs = {}
    for name in BOUND_STAGES:
        s = stages.get(name) or {}
        wall = (s.get("wall_ms") or {}).get("mean_ms")
        cpu = s.get("cpu_ms_mean")
        if wall is None:
            continue
        costs[name] = {"wall": round(float(wall), 3),
                       "cpu": round(float(cpu if cpu is not None else wall), 3)}
    if not costs or cores < 1:
        return None
    slowest = max(costs, key=lambda k: costs[k]["wall"])
    stage_fps = 1e3 / costs[slowest]["wall"] if costs[slowest]["wall"] > 0 else float("inf")
    total_cpu = sum(c["cpu"] for c in costs.values())
    core_fps = cores * 1e3 / total_cpu if total_cpu > 0 else float("inf")
    fps = min(stage_fps, core_fps)
    limited = f"stage '{slowest}'" if stage_fps <= core_fps else f"{cores} CPU cores"
    out = {"fps": round(fps, 2), "limited_by": limited, "stage_limit_fps": round(stage_fps, 2),
           "core_limit_fps": round(core_fps, 2), "slowest_stage": slowest, "cores": cores,
           "cpu_ms_per_frame": round(total_cpu, 3), "stage_costs_ms": costs}
    if other_cores is not None and total_cpu > 0:
        left = max(cores - other_cores, 0.0)
        out["under_load"] = {"other_cores": round(other_cores, 3), "cores_left": round(left, 3),
                             "core_limit_fps": round(left * 1e3 / total_cpu, 2)}
    return out
