"""Other vehicles: the dense-traffic sampler and the drawing of cars, vans, trucks and buses.

A vehicle is a box with a detailed rear face and, when it is beside the camera's line of sight,
a detailed side: wheels, sills, a window band, a truck's load box with a stripe. Those sides are
long straight edges converging to the vanishing point, exactly what a lane model must learn not
to call a lane line. Vehicles hide markings but never labels (a lane continues behind them).
"""

import cv2
import numpy as np

__all__ = ["dense_traffic", "make_vehicle", "draw_vehicles"]

SHIFT = 4
ONE = 1 << SHIFT
# (type, probability, width, height, length) ranges in metres
TYPES = (("car", 0.55, (1.7, 1.9), (1.35, 1.55), (4.0, 4.9)),
         ("van", 0.17, (1.8, 2.0), (1.7, 2.2), (4.6, 5.6)),
         ("truck", 0.17, (2.4, 2.6), (3.2, 4.0), (8.0, 16.0)),
         ("bus", 0.11, (2.45, 2.6), (2.9, 3.4), (11.0, 13.0)))


def make_vehicle(rng, lane: int, s: float, dd: float = 0.0, kind: str = None) -> dict:
    """One vehicle's parameters (the dict the renderer and the drive use)."""
    if kind is None:
        kind = TYPES[int(rng.choice(len(TYPES), p=[t[1] for t in TYPES]))][0]
    _, _, w, h, length = next(t for t in TYPES if t[0] == kind)
    base = rng.choice([0.05, 0.15, 0.5, 0.75, 0.9]) + rng.normal(0, 0.05)
    colour = np.clip(np.full(3, base) + rng.normal(0, 0.1, 3) * (rng.random() < 0.45), 0, 1)
    if kind in ("truck", "bus") and rng.random() < 0.6:
        colour = np.clip(np.full(3, rng.uniform(0.6, 0.92)) + rng.normal(0, 0.03, 3), 0, 1)
    return dict(lane=lane, s=float(s), dd=float(dd), w=float(rng.uniform(*w)),
                h=float(rng.uniform(*h)), l=float(rng.uniform(*length)), colour=colour,
                truck=kind in ("truck", "bus"), kind=kind, speed=float(rng.uniform(-2.0, 3.0)),
                stripe=np.clip(rng.uniform(0, 1, 3), 0, 1) if rng.random() < 0.4 else None)


def dense_traffic(rng, layout, ego: int) -> list:
    """Many vehicles close by: in the ego lane from 6 m, beside the camera in the next lanes
    (only their sides visible), some straddling a line while changing lanes."""
    n_lanes = len(layout.lane_widths)
    out, taken = [], []
    for _ in range(int(rng.integers(6, 16))):
        near = rng.random() < 0.7
        lane = int(np.clip(ego + rng.integers(-1, 2), 0, n_lanes - 1)) if near else \
            int(rng.integers(0, n_lanes))
        lo = 6.0 if lane == ego else -3.0
        s = float(rng.uniform(lo, 35.0)) if near else float(np.exp(rng.uniform(np.log(10), 5.0)))
        v = make_vehicle(rng, lane, s, rng.normal(0, 0.2))
        if any(l == lane and (-v["l"] - 2.0 < s - ss < ll + 2.0) for l, ss, ll in taken):
            continue
        if rng.random() < 0.12 and n_lanes > 1:    # changing lanes: on the line
            v["dd"] = float(rng.choice([-1.0, 1.0]) * rng.uniform(1.0, 1.8))
        taken.append((lane, s, v["l"]))
        out.append(v)
    return out


def _poly(img, pts, colour):
    p = np.round(np.clip(pts, -1e5, 1e5) * ONE).astype(np.int32).reshape(-1, 1, 2)
    cv2.fillPoly(img, [p], tuple(float(c) for c in colour), cv2.LINE_AA, SHIFT)


def _side(img, proj, d, s0, s1, bot, top, col):
    """A rectangle on the vertical plane at ``d`` between road distances s0 and s1."""
    c, r, z = proj(np.array([s0, s1, s1, s0]), np.full(4, d), np.array([bot, bot, top, top]))
    if np.all(z > 0.3):
        _poly(img, np.c_[c, r], col)


def _draw_side(img, proj, v, d, s0, s1, sig, body, glass, night):
    """The side facing the camera, from road distance s0 (clipped at the camera) to s1."""
    h, length, kind = v["h"], v["l"], v.get("kind", "truck" if v["truck"] else "car")
    _side(img, proj, d, s0, s1, 0.22, (0.55 * h) if kind == "car" else h * 0.97, body * 0.72)
    dark = np.full(3, 0.03)
    if kind in ("car", "van"):
        top = 0.93 * h if kind == "car" else h * 0.95
        _side(img, proj, d, max(s0, sig + 0.7), s1 - 0.8, 0.55 * h, top, body * 0.8)
        _side(img, proj, d, max(s0, sig + 0.9), s1 - 1.1, 0.6 * h, top - 0.06 * h, glass)
        _side(img, proj, d, s0, s1, 0.45 * h, 0.47 * h, body * 1.05)        # shoulder crease
    elif kind == "bus":
        _side(img, proj, d, max(s0, sig + 0.4), s1 - 2.5, 1.15, h - 0.35, glass)
        _side(img, proj, d, s0, s1, 0.22, 0.55, body * 0.5)                # skirt
    else:
        if v.get("stripe") is not None:
            _side(img, proj, d, s0, s1, 0.45 * h, 0.55 * h, np.asarray(v["stripe"]) * body.max())
        _side(img, proj, d, max(s0, sig + length - 2.2), s1, 1.0, h * 0.75, body * 0.9)  # cab
    axles = [0.9, length - 1.0] if kind in ("car", "van") else \
        [1.4, length - 2.6, length - 1.4] if kind == "truck" else [2.5, length - 2.8]
    rw = 0.33 if kind in ("car", "van") else 0.5
    for a in axles:
        if sig + a + rw > s0:
            _side(img, proj, d, max(s0, sig + a - rw), sig + a + rw, 0.0, 2 * rw, dark)
    if night:
        _side(img, proj, d, max(s0, sig), sig + 0.25, 0.55, 0.7, np.array([0.2, 0.4, 1.6]))


def draw_vehicles(img, scene, proj, vehicles, sig_max: float):
    """Vehicles as detailed boxes, far to near. ``vehicles``: (sigma, d, dict) tuples."""
    light = scene.ambient + 0.5 * scene.sun
    night = scene.light == "night"
    glass_col = np.array([0.1, 0.1, 0.1]) + 0.3 * scene.sky_hor * light
    for sig, d, v in sorted(vehicles, key=lambda t: -t[0]):
        w, h, length = v["w"], v["h"], v["l"]
        if sig + length < 1.0 or sig > sig_max:
            continue
        body = np.asarray(v["colour"]) * light
        lo, hi = d - w / 2, d + w / 2
        s_near = max(sig, 1.0)           # the part in front of the camera
        c, r, z = proj(np.array([s_near - 0.3, s_near - 0.3, sig + length, sig + length]),
                       np.array([lo - 0.1, hi + 0.1, hi + 0.1, lo - 0.1]), np.zeros(4))
        if np.any(z < 0.3):
            continue
        _poly(img, np.c_[c, r], np.full(3, 0.04) * (1 + 2 * scene.ambient))   # ground shadow
        side_d = lo if lo > 0 else (hi if hi < 0 else None)
        if side_d is not None:
            _draw_side(img, proj, v, side_d, s_near, sig + length, sig, body, glass_col, night)
        if scene.cam_h > h + 0.2:        # seen from above: the roof
            roof = body * 0.95 + 0.15 * scene.sky_hor * light
            c, r, z = proj(np.array([s_near, s_near, sig + length, sig + length]),
                           np.array([lo + 0.1, hi - 0.1, hi - 0.1, lo + 0.1]), np.full(4, h))
            if np.all(z > 0.3):
                _poly(img, np.c_[c, r], roof)
        if sig < 1.0:
            continue                     # the rear is behind the camera
        _draw_rear(img, proj, v, sig, d, lo, hi, body, glass_col, night, light)


def _draw_rear(img, proj, v, sig, d, lo, hi, body, glass, night, light):
    h, truck = v["h"], v["truck"]

    def face(a, b, bot, top, col):
        c, r, _ = proj(np.full(4, sig), np.array([a, b, b, a]), np.array([bot, bot, top, top]))
        _poly(img, np.c_[c, r], col)

    dark = np.full(3, 0.03)
    face(lo + 0.1, lo + 0.4, 0.0, 0.35, dark)
    face(hi - 0.4, hi - 0.1, 0.0, 0.35, dark)
    face(lo, hi, 0.25, 0.55 * h if not truck else h, body * 0.75)
    if not truck:
        face(lo + 0.15, hi - 0.15, 0.55 * h, 0.93 * h, body * 0.85)
        face(lo + 0.25, hi - 0.25, 0.6 * h, 0.88 * h, glass)
    elif v.get("kind") == "bus":
        face(lo + 0.2, hi - 0.2, 0.55 * h, 0.85 * h, glass)
    tail = np.array([0.3, 0.3, 4.0]) if night else np.array([0.1, 0.1, 0.55])
    y0, y1 = (0.5 * h, 0.58 * h) if not truck else (0.9, 1.1)
    face(lo + 0.05, lo + 0.35, y0, y1, tail)
    face(hi - 0.35, hi - 0.05, y0, y1, tail)
    face(d - 0.25, d + 0.25, 0.3, 0.42, np.full(3, 0.8) * light)       # number plate
