"""Random scene parameters: road layout, camera, light, materials, roadside, effects.

Everything random about a frame or a drive is drawn here from one numpy Generator, so a seed
fixes the scene. Colours are BGR floats (1.0 = white under full light).
"""

import math
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from lanecam.pipeline.roadsim.road import LineSpec, Profile, RoadLayout

__all__ = ["Scene", "sample_scene", "WHITE", "YELLOW"]

WHITE = np.array([0.86, 0.88, 0.88])
YELLOW = np.array([0.16, 0.66, 0.86])
LIGHTS = ("day", "overcast", "dusk", "night")


@dataclass
class Scene:
    """All parameters of a scene; see ``sample_scene``."""

    width: int
    height: int
    layout: RoadLayout
    profile: Profile
    fx: float
    fy: float
    cx: float
    cy: float
    cam_h: float
    pitch: float
    roll: float
    ego_lane: int
    light: str
    sun: float
    ambient: float
    tint: np.ndarray
    sky_top: np.ndarray
    sky_hor: np.ndarray
    haze: np.ndarray
    fog_m: float
    asphalt: np.ndarray
    concrete: bool
    shoulders: tuple
    terrain: tuple
    streaks: float
    tex_off: tuple
    tex_amp: float
    shadow_thr: float
    shadow_gain: float
    joint: Optional[tuple]            # (period m, phase m) of transverse slab joints
    bridge: Optional[tuple]           # (s start, length) of an overpass
    barriers: List[tuple]             # (kind, d, side)
    tree_density: float
    treeline: tuple                   # (hill amp, tree amp, phase, colour)
    vehicles: List[dict]
    hood: Optional[tuple]             # (top fraction, droop fraction, BGR)
    fx_params: dict
    label_far_m: float
    seed: int
    mountains: tuple = (0.0, np.zeros(3))  # (amplitude fraction of H, BGR)
    poles: float = 0.0                     # light pole spacing (m), 0 = none
    # v2 (see mix.py); the defaults are the v1 renderer
    kind: str = "road"                     # scene kind, for sheets and tests
    no_road: Optional[str] = None          # "black" / "white" / "sky" / "tunnel": no road at all
    lens_k: float = 0.0                    # barrel distortion (see lens.py), 0 = pinhole
    wet: float = 0.0                       # 0 dry .. 1 mirror-wet road
    street_lights: float = 0.0             # brightness of street-light pools at night, 0 = none
    bloom: float = 0.0                     # glare around bright sources
    extra: dict = field(default_factory=dict)


def _u(rng, a, b):
    return float(rng.uniform(a, b))


def _layout(rng) -> RoadLayout:
    n = int(rng.choice([2, 3, 4, 5], p=[0.25, 0.35, 0.3, 0.1]))
    base_w = _u(rng, 3.0, 3.9)
    widths = list(np.clip(base_w + rng.normal(0, 0.08, n), 3.0, 4.0))
    two_way = n == 2 and rng.random() < 0.25
    dash, gap = (3.0, 9.0) if rng.random() < 0.75 else (_u(rng, 2.0, 4.5), _u(rng, 5.0, 12.0))
    phase = _u(rng, 0, 12)
    lines = []
    b = np.r_[0.0, np.cumsum(widths)]
    for i, d in enumerate(b):
        wear = _u(rng, 0.1, 0.9) if rng.random() < 0.3 else 0.0
        alpha = _u(rng, 0.85, 1.0) if rng.random() < 0.75 else _u(rng, 0.4, 0.85)
        w = _u(rng, 0.10, 0.2)
        if i == 0:
            r = rng.random()
            if two_way:
                spec = LineSpec(d, "white", "solid", w)
            elif r < 0.6:
                spec = LineSpec(d, "yellow", "solid", w)
            elif r < 0.87:
                spec = LineSpec(d, "white", "solid", w)
            else:
                spec = LineSpec(d, painted=False)
        elif i == n:
            spec = LineSpec(d, "white", "solid", w, painted=rng.random() < 0.88)
        elif two_way:
            spec = LineSpec(d, "yellow", "double" if rng.random() < 0.7 else "dashed", w,
                            dash, gap, phase)
        else:
            r = rng.random()
            style = "dashed" if r < 0.86 else ("solid" if r < 0.94 else "double")
            spec = LineSpec(d, "white", style, w, dash, gap, phase + rng.normal(0, 0.3))
        spec.alpha, spec.wear = alpha, wear
        lines.append(spec)
    return RoadLayout(widths, lines)


def _light(rng):
    name = str(rng.choice(LIGHTS, p=[0.5, 0.25, 0.12, 0.13]))
    if name == "day":
        sun, amb = _u(rng, 0.65, 1.0), _u(rng, 0.3, 0.5)
        tint = np.array([1.0, 1.0, 1.0]) + rng.normal(0, 0.02, 3)
        top = np.array([0.85, 0.58, 0.35]) + rng.normal(0, 0.05, 3)
        hor = np.array([0.95, 0.88, 0.80]) + rng.normal(0, 0.04, 3)
    elif name == "overcast":
        sun, amb = _u(rng, 0.0, 0.2), _u(rng, 0.85, 1.1)
        tint = np.array([1.0, 1.0, 0.98]) + rng.normal(0, 0.015, 3)
        g = _u(rng, 0.35, 0.75)
        top = np.array([g, g, g * 0.97]) + rng.normal(0, 0.02, 3)
        hor = np.full(3, min(1.0, g + _u(rng, 0.1, 0.3)))
    elif name == "dusk":
        sun, amb = _u(rng, 0.25, 0.6), _u(rng, 0.15, 0.35)
        tint = np.array([0.82, 0.93, 1.1])
        top = np.array([0.55, 0.38, 0.32]) + rng.normal(0, 0.04, 3)
        hor = np.array([0.45, 0.62, 0.92]) + rng.normal(0, 0.04, 3)
    else:
        sun, amb = 0.0, _u(rng, 0.03, 0.09)
        tint = np.array([1.0, 0.95, 0.9])
        top = np.array([0.06, 0.04, 0.03])
        hor = np.array([0.14, 0.12, 0.11]) * _u(rng, 0.6, 1.6)
    return name, sun, amb, tint, np.clip(top, 0, 1), np.clip(hor, 0, 1)


def _vehicles(rng, layout, ego, n_max, near=10.0):
    out = []
    n = int(rng.integers(0, n_max + 1))
    taken = []
    for _ in range(n):
        lane = int(rng.integers(0, len(layout.lane_widths)))
        dist = float(np.exp(rng.uniform(np.log(near if lane != ego else 14.0), np.log(160.0))))
        if any(l == lane and abs(dd - dist) < 12 for l, dd in taken):
            continue
        taken.append((lane, dist))
        truck = rng.random() < 0.15
        base = rng.choice([0.05, 0.15, 0.5, 0.75, 0.9]) + rng.normal(0, 0.05)
        colour = np.clip(np.full(3, base) + rng.normal(0, 0.08, 3) * (rng.random() < 0.4), 0, 1)
        out.append(dict(lane=lane, s=dist, dd=float(rng.normal(0, 0.2)),
                        w=_u(rng, 2.4, 2.6) if truck else _u(rng, 1.7, 2.0),
                        h=_u(rng, 3.2, 4.0) if truck else _u(rng, 1.35, 1.8),
                        l=_u(rng, 10, 16) if truck else _u(rng, 4.0, 5.0),
                        colour=colour if not truck else np.full(3, _u(rng, 0.6, 0.9)),
                        truck=truck, speed=_u(rng, -2.0, 3.0)))
    return out


def sample_scene(rng: np.random.Generator, width: int, height: int, drive: bool = False) -> Scene:
    """Draw a scene. ``drive`` keeps the road gentler (highway curves, small grades) and the
    camera fixed, as on a real vehicle."""
    layout = _layout(rng)
    n = len(layout.lane_widths)
    ego = int(rng.integers(0, n))
    if drive:
        profile = Profile(rng)
    else:
        profile = Profile(rng, radius=(200.0, 4000.0), straight_p=0.3, ramp=(40.0, 200.0),
                          seg=(60.0, 300.0), vradius=(2500.0, 30000.0), flat_p=0.5)
    fx = width * _u(rng, 0.78, 1.1)
    fy = fx * _u(rng, 0.98, 1.02)
    cx = width * (0.5 + rng.normal(0, 0.015))
    cy = height * (0.5 + rng.normal(0, 0.025))
    horizon = _u(rng, 0.33, 0.62)
    pitch = math.atan((cy - horizon * height) / fy)
    roll = float(np.clip(rng.normal(0, 0.012), -0.04, 0.04))
    light, sun, amb, tint, top, hor = _light(rng)
    haze = np.clip(0.6 * hor + 0.4 * np.array([0.7, 0.7, 0.68]) * (light != "night"), 0, 1)
    kind = rng.random()
    concrete = kind < 0.3
    if concrete:
        g = _u(rng, 0.48, 0.68)
        asphalt = np.array([g * 0.98, g, g * 1.01])
    else:
        g = _u(rng, 0.16, 0.42) if kind < 0.85 else _u(rng, 0.42, 0.52)
        asphalt = np.array([g * 1.02, g, g * 0.98]) + rng.normal(0, 0.01, 3)
    terr = [np.array([0.16, 0.32, 0.24]), np.array([0.35, 0.55, 0.62]),
            np.array([0.30, 0.40, 0.48]), np.array([0.40, 0.44, 0.46])]
    terrain = tuple(np.clip(terr[int(rng.integers(0, 4))] * _u(rng, 0.7, 1.2), 0, 1)
                    for _ in range(2))
    shoulders = (_u(rng, 0.3, 3.0), _u(rng, 0.6, 3.5))
    barriers = []
    b = layout.boundaries
    for side, d0, sgn in (("left", b[0] - shoulders[0], -1), ("right", b[-1] + shoulders[1], 1)):
        r = rng.random()
        if r < (0.5 if side == "left" else 0.25):
            barriers.append(("jersey", d0 + sgn * _u(rng, 0.2, 0.7), side))
        elif r < (0.75 if side == "left" else 0.6):
            barriers.append(("rail", d0 + sgn * _u(rng, 0.3, 1.2), side))
    fxp = dict(
        gain=_u(rng, 0.8, 1.25) if light != "night" else _u(rng, 1.0, 2.0),
        wb=1.0 + rng.normal(0, 0.04, 3),
        blur=_u(rng, 0.3, 1.3) if rng.random() < 0.5 else 0.0,
        motion=int(rng.integers(2, 6)) if rng.random() < 0.12 else 0,
        noise=_u(rng, 0.004, 0.025) * (2.5 if light == "night" else 1.0),
        vignette=_u(rng, 0.0, 0.4),
        jpeg=int(rng.integers(25, 90)) if rng.random() < 0.35 else 0,
        gamma=_u(rng, 0.8, 1.25), contrast=_u(rng, 0.85, 1.2),
        glare=_u(rng, 0.1, 0.6) if (light in ("day", "dusk") and rng.random() < 0.3) else 0.0,
        glare_xy=(_u(rng, -0.3, 1.3), _u(rng, -0.3, 0.3)))
    hood = None
    if rng.random() < 0.2:
        hood = (_u(rng, 0.86, 0.95), _u(rng, 0.01, 0.05),
                np.clip(np.full(3, _u(rng, 0.05, 0.5)) + rng.normal(0, 0.05, 3), 0, 1))
    return Scene(
        width=width, height=height, layout=layout, profile=profile, fx=fx, fy=fy, cx=cx, cy=cy,
        cam_h=_u(rng, 1.2, 1.8), pitch=pitch, roll=roll, ego_lane=ego, light=light, sun=sun,
        ambient=amb, tint=tint, sky_top=top, sky_hor=hor, haze=haze,
        fog_m=_u(rng, 250, 1500) if light != "overcast" else _u(rng, 150, 700),
        asphalt=asphalt, concrete=concrete, shoulders=shoulders, terrain=terrain,
        streaks=_u(rng, -0.25, 0.12), tex_off=(_u(rng, 0, 1000), _u(rng, 0, 1000)),
        tex_amp=_u(rng, 0.05, 0.3), shadow_thr=_u(rng, 0.5, 2.6) if sun > 0.3 else 9.0,
        shadow_gain=_u(rng, 4.0, 14.0),
        joint=(_u(rng, 4.0, 6.0), _u(rng, 0, 6)) if concrete else None,
        bridge=(_u(rng, 15, 150), _u(rng, 10, 25)) if rng.random() < 0.08 else None,
        barriers=barriers, tree_density=_u(rng, 0.0, 1.5) ** 1.5,
        vehicles=_vehicles(rng, layout, ego, 6 if drive else 10),
        treeline=(_u(rng, 0.0, 0.07), _u(rng, 0.0, 0.05), _u(rng, 0, 1000),
                  np.clip(np.array([0.15, 0.28, 0.22]) * _u(rng, 0.5, 1.3), 0, 1)),
        hood=hood, fx_params=fxp, label_far_m=_u(rng, 110, 200),
        seed=int(rng.integers(0, 2 ** 31)),
        mountains=(_u(rng, 0.0, 0.12) * (rng.random() < 0.6),
                   np.clip(np.array([0.45, 0.45, 0.42]) + rng.normal(0, 0.06, 3), 0, 1)),
        poles=_u(rng, 35, 70) if rng.random() < 0.3 else 0.0)
