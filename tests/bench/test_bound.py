"""The theoretical bound: limited by the slowest stage or by the cores."""

from lanecam.pipeline.bench.bound import theoretical_bound


def _stages(**costs):
    return {name: {"wall_ms": {"mean_ms": wall}, "cpu_ms_mean": cpu}
            for name, (wall, cpu) in costs.items()}


def test_slowest_stage_limits_when_cores_are_plenty():
    b = theoretical_bound(_stages(source=(2, 2), preprocess=(3, 3), infer=(10, 10),
                                  postprocess=(4, 4), sink=(1, 1)), cores=4)
    assert b["limited_by"] == "stage 'infer'"
    assert b["fps"] == 100.0 and b["stage_limit_fps"] == 100.0
    assert b["core_limit_fps"] == 200.0


def test_cores_limit_when_the_work_does_not_fit():
    # 20 ms of CPU per frame on 2 cores: 100 fps, although no stage takes more than 8 ms
    b = theoretical_bound(_stages(source=(3, 3), preprocess=(4, 4), infer=(5, 8),
                                  postprocess=(4, 4), sink=(1, 1)), cores=2)
    assert b["limited_by"] == "2 CPU cores"
    assert b["fps"] == 100.0 and b["cpu_ms_per_frame"] == 20.0


def test_missing_costs():
    assert theoretical_bound({}, cores=2) is None
    only = theoretical_bound({"infer": {"wall_ms": {"mean_ms": 5.0}}}, cores=1)
    assert only["fps"] == 200.0  # CPU time defaults to the wall time


def test_under_load_reports_the_cores_left():
    b = theoretical_bound(_stages(infer=(5, 5), postprocess=(5, 5)), cores=2, other_cores=1.5)
    assert b["fps"] == 200.0  # the bound assumes the cores are ours
    assert b["under_load"] == {"other_cores": 1.5, "cores_left": 0.5, "core_limit_fps": 50.0}
