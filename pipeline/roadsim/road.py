"""Road layout (lanes, their lines) and the road's centreline seen from the vehicle.

Road coordinates: ``s`` metres along the reference line, ``d`` metres across it (+ right).
The reference line (d = 0) is the left boundary of the carriageway; lane boundaries follow at
increasing d. A point (s, d) lies at vehicle-frame X = X_ref(s) + d / cos(theta(s)), which is
the first-order normal offset; the renderer inverts exactly this map, so the painted lines and
the labelled polylines coincide.
"""

from dataclasses import dataclass, field
from typing import List

import numpy as np

__all__ = ["LineSpec", "RoadLayout", "Profile", "Centreline", "centreline", "SIGMA"]

# Road distances ahead of the vehicle at which the centreline is evaluated: dense near the car
# (where a metre spans many rows), sparser far away.
SIGMA = np.unique(np.r_[np.linspace(-20.0, 20.0, 161), 20.0 * np.geomspace(1.0, 16.0, 320)])
I0 = int(np.searchsorted(SIGMA, 0.0))


@dataclass
class LineSpec:
    """One painted (or unpainted) lane boundary."""

    d: float
    color: str = "white"          # "white" / "yellow"
    style: str = "solid"          # "solid" / "dashed" / "double"
    width: float = 0.15
    dash: float = 3.0
    gap: float = 9.0
    phase: float = 0.0
    alpha: float = 1.0            # paint opacity (wear)
    wear: float = 0.0             # 0 pristine .. 1 patchy along the line
    painted: bool = True
    double_gap: float = 0.12

    def stripes(self):
        """(centre d, width) of each painted stripe of this line."""
        if self.style == "double":
            off = 0.5 * (self.double_gap + self.width)
            return [(self.d - off, self.width), (self.d + off, self.width)]
        return [(self.d, self.width)]


@dataclass
class RoadLayout:
    """Lane widths and boundary lines (left to right) of a carriageway."""

    lane_widths: List[float]
    lines: List[LineSpec] = field(default_factory=list)

    @property
    def boundaries(self) -> np.ndarray:
        return np.r_[0.0, np.cumsum(self.lane_widths)]

    def lane_of(self, d: float) -> int:
        """Index of the lane containing lateral position ``d`` (clipped to the road)."""
        b = self.boundaries
        return int(np.clip(np.searchsorted(b, d) - 1, 0, len(self.lane_widths) - 1))

    def lane_centre(self, lane: int) -> float:
        b = self.boundaries
        return 0.5 * (b[lane] + b[lane + 1])


class Profile:
    """Horizontal curvature k(s) (+ = bends right) and vertical curvature kv(s) (+ = sag),
    sampled every metre and grown on demand with clothoid transitions between segments."""

    DS = 1.0

    def __init__(self, rng: np.random.Generator, s_start: float = -60.0, radius=(600.0, 5000.0),
                 straight_p: float = 0.4, ramp=(120.0, 300.0), seg=(150.0, 500.0),
                 vradius=(8000.0, 40000.0), flat_p: float = 0.6):
        self.rng = rng
        self.radius, self.straight_p, self.ramp, self.seg = radius, straight_p, ramp, seg
        self.vradius, self.flat_p = vradius, flat_p
        self.s0 = s_start
        self.k = np.zeros(0, np.float64)
        self.kv = np.zeros(0, np.float64)
        self._k_end = self._draw_k()
        self._kv_end = self._draw_kv()
        self._append(self._k_end, self._kv_end, rng.uniform(*seg) + 80.0, 1.0)

    def _draw_k(self) -> float:
        if self.rng.random() < self.straight_p:
            return 0.0
        lo, hi = np.log(self.radius[0]), np.log(self.radius[1])
        return float(self.rng.choice([-1.0, 1.0]) / np.exp(self.rng.uniform(lo, hi)))

    def _draw_kv(self) -> float:
        if self.rng.random() < self.flat_p:
            return 0.0
        lo, hi = np.log(self.vradius[0]), np.log(self.vradius[1])
        return float(self.rng.choice([-1.0, 1.0]) / np.exp(self.rng.uniform(lo, hi)))

    def _append(self, k_to, kv_to, length, ramp):
        n_ramp = max(1, int(ramp / self.DS))
        n_flat = max(1, int(length / self.DS))
        k0 = self.k[-1] if len(self.k) else k_to
        kv0 = self.kv[-1] if len(self.kv) else kv_to
        t = np.arange(1, n_ramp + 1) / n_ramp
        self.k = np.r_[self.k, k0 + (k_to - k0) * t, np.full(n_flat, k_to)]
        self.kv = np.r_[self.kv, kv0 + (kv_to - kv0) * t, np.full(n_flat, kv_to)]

    @property
    def s_end(self) -> float:
        return self.s0 + (len(self.k) - 1) * self.DS

    def ensure(self, s_end: float) -> None:
        """Grow the profile until it covers ``s_end``."""
        while self.s_end < s_end:
            self._append(self._draw_k(), self._draw_kv(), self.rng.uniform(*self.seg),
                         self.rng.uniform(*self.ramp))

    def sample(self, s: np.ndarray):
        """(k, kv) at road positions ``s``."""
        self.ensure(float(np.max(s)) + 1.0)
        grid = self.s0 + np.arange(len(self.k)) * self.DS
        return np.interp(s, grid, self.k), np.interp(s, grid, self.kv)

    def heading(self, s: float) -> float:
        """Road heading (rad, from s0) at ``s``: for moving the distant scenery."""
        self.ensure(s + 1.0)
        n = int(max(0.0, (s - self.s0) / self.DS))
        return float(np.sum(self.k[:n]) * self.DS)


@dataclass
class Centreline:
    """The reference line in the vehicle frame, per SIGMA sample (road distance ahead)."""

    sigma: np.ndarray
    s: np.ndarray
    f: np.ndarray        # forward (m)
    x: np.ndarray        # lateral of the reference line (m, + right)
    cos_t: np.ndarray    # cos of the road heading relative to the vehicle
    u: np.ndarray        # road height relative to the road under the vehicle (m)
    k0: float            # curvature of the reference line at the vehicle


def _cumtrapz(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    c = np.r_[0.0, np.cumsum(0.5 * (y[1:] + y[:-1]) * np.diff(x))]
    return c - c[I0]


def centreline(profile: Profile, s_v: float, d_v: float, psi: float) -> Centreline:
    """Reference line seen from a vehicle at (s_v, d_v) whose yaw is ``psi`` (rad, + = pointing
    right of the road direction)."""
    s = s_v + SIGMA
    k, kv = profile.sample(s)
    phi = _cumtrapz(k, SIGMA)
    fwd = _cumtrapz(np.cos(phi), SIGMA)
    lat = _cumtrapz(np.sin(phi), SIGMA)
    grade = _cumtrapz(kv, SIGMA)
    up = _cumtrapz(grade, SIGMA)
    sp, cp = np.sin(psi), np.cos(psi)
    f = (lat - d_v) * sp + fwd * cp
    x = (lat - d_v) * cp - fwd * sp
    return Centreline(SIGMA, s, f, x, np.cos(phi - psi), up, float(k[I0]))
