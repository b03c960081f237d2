"""Scene distributions v2 and v3: probability knobs for the real-road failure cases, applied on
top of a v1 scene from ``scene.sample_scene``.

Each knob is the probability (per frame, or per road side) of one kind of scene. ``apply_mix``
draws from its own generator, seeded by the scene's seed, so the v1 part of a scene is the same
with or without the mix and a seed still fixes everything. ``V1`` (all knobs 0) reproduces the
v1 distribution exactly; ``V3`` is v2 with lanes of unequal widths (``MIXES`` names them all).
"""

import math
from dataclasses import dataclass, replace

import numpy as np

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.roadsim.road import LineSpec
from lanecam.pipeline.roadsim.scene import Scene
from lanecam.pipeline.roadsim.traffic import dense_traffic

__all__ = ["SceneMix", "DEFAULT_MIX", "V1", "V3", "MIXES", "mix_named", "apply_mix",
           "NO_ROAD_KINDS", "EDGE_KINDS"]

NO_ROAD_KINDS = ("black", "white", "sky", "tunnel")
EDGE_KINDS = ("jersey", "rail", "wall", "curb", "hedge")
GRASS = np.array([0.16, 0.34, 0.24])
DRY = np.array([0.33, 0.50, 0.58])
DIRT = np.array([0.27, 0.36, 0.45])


@dataclass(frozen=True)
class SceneMix:
    """Probabilities of the v2 scene kinds (0 switches a kind off)."""

    no_road: float = 0.05          # per frame: black / blown-out / sky only / dark tunnel
    rural: float = 0.15            # per frame: 1-2 lanes, only edge lines or none at all
    rural_no_lines: float = 0.35   # of rural frames: no paint at all
    edge_barrier: float = 0.35     # per side: a barrier, wall, curb or hedge at the road edge
    bare_edge: float = 0.2         # per side: the edge line is not painted (verge, dirt, barrier)
    dense_traffic: float = 0.25    # per frame: many vehicles near, in the ego and next lanes
    hood: float = 0.3              # per frame: the bonnet in view (v1: 0.2)
    camera: float = 0.5            # per frame: mount 1-3 m, HFOV 40-120 deg
    lens: float = 0.35             # of those: barrel distortion
    strong_roll: float = 0.12      # per frame: roll up to 8 deg
    wet: float = 0.2               # per frame: a wet, reflective road
    street_lights: float = 0.6     # of night frames: lit street lights
    night_bloom: float = 0.6       # of night frames: glare around lights
    uneven_lanes: float = 0.0      # per frame: the other lanes 0.7-1.45x the ego lane's width


DEFAULT_MIX = SceneMix()
V1 = SceneMix(**{k: 0.0 for k in SceneMix.__dataclass_fields__})
# v3 (training only so far): v2 with lanes of unequal widths in half the frames. In v1 and v2
# every lane of a road is within a few cm of the same width, so a network can place the outer
# lines (L2, R2) one ego-lane width out without looking at the paint; real roads have exit,
# merge and bus lanes, narrow urban lanes beside wide ones, and edge lines beyond a shoulder.
V3 = replace(DEFAULT_MIX, uneven_lanes=0.5)
MIXES = {"v1": V1, "v2": DEFAULT_MIX, "v3": V3}


def mix_named(name: str, what: str = "scene mix") -> SceneMix:
    """The distribution called ``name`` in ``MIXES``; an unknown name is one ``InputError``
    line that starts with ``what`` (the flag or option that gave it) and the name."""
    if name not in MIXES:
        raise InputError(f"{what} {name!r}: expected one of {', '.join(MIXES)}")
    return MIXES[name]


def _u(rng, a, b):
    return float(rng.uniform(a, b))


def _tag(scene: Scene, name: str) -> None:
    """Add ``name`` to the scene's kind ("road" until something is added)."""
    scene.kind = name if scene.kind == "road" else f"{scene.kind}+{name}"


def _camera(scene: Scene, rng, mix: SceneMix) -> None:
    """Mount height, field of view, lens and roll beyond the v1 dashcam."""
    w, h = scene.width, scene.height
    if rng.random() < mix.camera:
        scene.cam_h = _u(rng, 1.0, 3.0)
        hfov = math.radians(_u(rng, 40.0, 120.0))
        horizon = (scene.cy - scene.fy * math.tan(scene.pitch)) / h
        scene.fx = 0.5 * w / math.tan(0.5 * hfov)
        scene.fy = scene.fx * _u(rng, 0.98, 1.02)
        # wide lenses are barrel-distorted; the stronger the wider
        if rng.random() < mix.lens + max(0.0, (math.degrees(hfov) - 90.0) / 60.0):
            scene.lens_k = _u(rng, 0.05, 0.35) * (0.5 + hfov / math.pi)
        scene.pitch = math.atan((scene.cy - horizon * h) / scene.fy)
        _tag(scene, "camera")
    if rng.random() < mix.strong_roll:
        scene.roll = _u(rng, 0.04, 0.14) * float(rng.choice([-1.0, 1.0]))
        _tag(scene, "roll")


def _uneven_lanes(scene: Scene, rng) -> None:
    """Redraw the widths of every lane but the ego lane (0.7-1.45x it, 2.5-5.0 m) and move the
    lines, and the right-hand barriers, with them."""
    lay = scene.layout
    old_right = float(lay.boundaries[-1])
    ego_w = lay.lane_widths[scene.ego_lane]
    lay.lane_widths = [w if i == scene.ego_lane else float(np.clip(ego_w * _u(rng, 0.7, 1.45),
                                                                     2.5, 5.0))
                       for i, w in enumerate(lay.lane_widths)]
    for line, d in zip(lay.lines, lay.boundaries):
        line.d = float(d)
    shift = float(lay.boundaries[-1]) - old_right
    scene.barriers = [(kind, d + shift if side == "right" else d, side)
                      for kind, d, side in scene.barriers]
    _tag(scene, "uneven")


def _rural(scene: Scene, rng, mix: SceneMix) -> None:
    """A narrow road with edge lines only, or no paint at all, between verges."""
    n = int(rng.choice([1, 2], p=[0.3, 0.7]))
    widths = list(np.full(n, _u(rng, 2.6, 3.6)))
    b = np.r_[0.0, np.cumsum(widths)]
    none = rng.random() < mix.rural_no_lines
    lines = []
    for i, d in enumerate(b):
        edge = i in (0, n)
        spec = LineSpec(float(d), "white", "solid", _u(rng, 0.1, 0.15),
                        painted=edge and not none)
        spec.alpha = _u(rng, 0.5, 1.0)
        spec.wear = _u(rng, 0.0, 0.7) if rng.random() < 0.5 else 0.0
        lines.append(spec)
    scene.layout.lane_widths, scene.layout.lines = widths, lines
    scene.ego_lane = n - 1 if rng.random() < 0.8 else 0
    scene.shoulders = (_u(rng, 0.0, 0.5), _u(rng, 0.0, 0.5))
    verge = [GRASS, DRY, DIRT][int(rng.integers(0, 3))]
    scene.terrain = tuple(np.clip(verge * _u(rng, 0.7, 1.2), 0, 1) for _ in range(2))
    g = _u(rng, 0.2, 0.45)
    scene.asphalt = np.array([g * 1.02, g, g * 0.97])
    scene.concrete, scene.joint = False, None
    scene.tex_amp = _u(rng, 0.15, 0.4)           # patched, worn surfaces
    scene.tree_density = _u(rng, 0.3, 1.6)
    scene.barriers = [bb for bb in scene.barriers if rng.random() < 0.3]
    scene.vehicles = [v for v in scene.vehicles if v["lane"] < n]
    _tag(scene, "rural-bare" if none else "rural-edges")


def _edges(scene: Scene, rng, mix: SceneMix) -> None:
    """Per side: maybe no paint at the edge, maybe a barrier right beside the edge."""
    lay = scene.layout
    b = lay.boundaries
    shoulders = list(scene.shoulders)
    barriers = [bb for bb in scene.barriers]
    for i, (side, sgn) in enumerate((("left", -1.0), ("right", 1.0))):
        edge_line = lay.lines[0] if side == "left" else lay.lines[-1]
        edge_d = b[0] if side == "left" else b[-1]
        bare = rng.random() < mix.bare_edge
        barrier = rng.random() < mix.edge_barrier
        if not (bare or barrier):
            continue
        if bare:
            edge_line.painted = False
            _tag(scene, "bare-edge")
        if barrier:
            kind = str(rng.choice(EDGE_KINDS, p=[0.3, 0.25, 0.15, 0.15, 0.15]))
            shoulders[i] = _u(rng, 0.0, 0.6) if rng.random() < 0.6 else _u(rng, 0.6, 2.5)
            gap = 0.02 if kind == "curb" else _u(rng, 0.05, 0.5)
            barriers = [bb for bb in barriers if bb[2] != side]
            barriers.append((kind, float(edge_d + sgn * (shoulders[i] + gap)), side))
            _tag(scene, kind)
        elif bare:
            shoulders[i] = _u(rng, 0.0, 0.4)   # asphalt straight into the verge
    scene.shoulders = tuple(shoulders)
    scene.barriers = barriers


def _night(scene: Scene, rng, mix: SceneMix) -> None:
    if rng.random() < mix.wet:
        scene.wet = _u(rng, 0.3, 1.0)
        scene.asphalt = scene.asphalt * _u(rng, 0.55, 0.85)
        _tag(scene, "wet")
    if scene.light == "night":
        if rng.random() < mix.street_lights:
            scene.street_lights = _u(rng, 0.4, 1.1)
            scene.poles = _u(rng, 25.0, 45.0)
        if rng.random() < mix.night_bloom:
            scene.bloom = _u(rng, 0.3, 1.0)
        _tag(scene, "night")
    elif scene.wet and rng.random() < 0.5:
        scene.bloom = _u(rng, 0.1, 0.4)


def apply_mix(scene: Scene, mix: SceneMix = DEFAULT_MIX, drive: bool = False) -> Scene:
    """Turn a v1 scene into a v2 one, in place (returns it). ``drive`` keeps the camera a
    pinhole at v1 height (the drive is a calibrated dashcam the geometry tests check)."""
    if mix == V1:
        return scene
    rng = np.random.default_rng([scene.seed, 2])
    if rng.random() < mix.no_road and not drive:
        scene.no_road = str(rng.choice(NO_ROAD_KINDS))
        _tag(scene, "no-road-" + scene.no_road)
        return scene
    if rng.random() < mix.rural:
        _rural(scene, rng, mix)
    else:
        if mix.uneven_lanes and len(scene.layout.lane_widths) > 1:
            # its own generator: the draws of ``rng`` stay those of v2, so a v3 frame is the
            # v2 frame of the same seed with other lane widths
            urng = np.random.default_rng([scene.seed, 3])
            if urng.random() < mix.uneven_lanes:
                _uneven_lanes(scene, urng)
        _edges(scene, rng, mix)
    if rng.random() < mix.dense_traffic:
        scene.vehicles = dense_traffic(rng, scene.layout, scene.ego_lane)
        _tag(scene, "traffic")
    if not drive:
        _camera(scene, rng, mix)
    scene.hood = None
    if rng.random() < mix.hood:
        scene.hood = (_u(rng, 0.72, 0.95), _u(rng, 0.01, 0.08),
                      np.clip(np.full(3, _u(rng, 0.04, 0.6)) + rng.normal(0, 0.05, 3), 0, 1))
        _tag(scene, "hood")
    _night(scene, rng, mix)
    return scene
