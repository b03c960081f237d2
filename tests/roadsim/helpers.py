"""Shared helpers for the road renderer tests."""

import numpy as np

from lanecam.pipeline.roadsim import random_frame


def frames(seeds, width=320, height=180):
    """(seed, frame, gt) for each seed."""
    return [(s, *random_frame(s, width=width, height=height)) for s in seeds]


def densify(points: np.ndarray, step: float = 1.0) -> np.ndarray:
    """Points every ``step`` pixels along a polyline."""
    seg = np.diff(points, axis=0)
    length = np.r_[0.0, np.cumsum(np.hypot(seg[:, 0], seg[:, 1]))]
    t = np.arange(0.0, length[-1], step)
    return np.c_[np.interp(t, length, points[:, 0]), np.interp(t, length, points[:, 1])]


def x_at(points: np.ndarray, y: float) -> float:
    """x of a polyline (increasing y) at row y, nan outside."""
    if not points[0, 1] <= y <= points[-1, 1]:
        return float("nan")
    return float(np.interp(y, points[:, 1], points[:, 0]))


def first_seed(pred, mix=None, limit=3000, width=320, height=180):
    """The first seed whose v2 scene satisfies ``pred(scene)`` (scenes are cheap to sample)."""
    from lanecam.pipeline.roadsim.mix import DEFAULT_MIX, apply_mix
    from lanecam.pipeline.roadsim.scene import sample_scene

    for seed in range(limit):
        scene = apply_mix(sample_scene(np.random.default_rng(seed), width, height),
                          mix or DEFAULT_MIX)
        if pred(scene):
            return seed
    raise AssertionError("no seed found")


def plain_scene(seed=11, width=640, height=360, k=0.0, **mix):
    """A day scene on a constant-curvature road (``k``) with no effects that blur or add noise,
    after ``apply_mix`` with the given knobs (every other knob 0)."""
    from lanecam.pipeline.roadsim.mix import V1, apply_mix
    from lanecam.pipeline.roadsim.road import Profile
    from lanecam.pipeline.roadsim.scene import sample_scene
    import dataclasses

    scene = sample_scene(np.random.default_rng(seed), width, height)
    scene.light, scene.sun, scene.ambient = "day", 0.7, 0.4
    scene.profile = Profile(np.random.default_rng(0), radius=(1.0, 1.0001), straight_p=1.0,
                            flat_p=1.0)
    scene.profile.ensure(2000.0)
    scene.profile.k[:] = k
    scene.vehicles, scene.hood, scene.roll, scene.bridge = [], None, 0.0, None
    scene.fx_params.update(blur=0.0, motion=0, noise=0.0, jpeg=0, glare=0.0, vignette=0.0)
    scene.shadow_thr = 9.0
    return apply_mix(scene, dataclasses.replace(V1, **mix))
