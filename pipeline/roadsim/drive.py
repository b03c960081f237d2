"""A temporally coherent drive (``RoadRenderer``) and independent random frames."""

import math

import numpy as np

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.roadsim.mix import DEFAULT_MIX, V1, SceneMix, apply_mix
from lanecam.pipeline.roadsim.render import make_camera, render
from lanecam.pipeline.roadsim.scene import sample_scene

__all__ = ["RoadRenderer", "random_frame"]


def _check_size(width, height):
    if int(width) != width or int(height) != height or width < 16 or height < 16:
        raise InputError(f"road renderer: expected integer width, height >= 16, "
                         f"got {width}x{height}")


def random_frame(seed: int, width: int = 640, height: int = 360, mix: SceneMix = None):
    """An independent random scene (a training sample): (BGR uint8 frame, GroundTruth).
    The same seed gives the bitwise same frame and labels. ``mix``: the scene distribution
    (``mix.DEFAULT_MIX`` when None; ``mix.V1`` is the v1 renderer's)."""
    _check_size(width, height)
    rng = np.random.default_rng(int(seed))
    scene = apply_mix(sample_scene(rng, int(width), int(height)),
                      DEFAULT_MIX if mix is None else mix)
    lay = scene.layout
    lane_w = lay.lane_widths[scene.ego_lane]
    spread = 0.45 * lane_w if rng.random() < 0.12 else 0.12 * lane_w
    d_v = lay.lane_centre(scene.ego_lane) + float(np.clip(rng.normal(0, spread), -0.6 * lane_w,
                                                          0.6 * lane_w))
    psi = float(rng.normal(0, 0.012))
    cam = make_camera(scene)
    vehicles = [(v["s"], lay.lane_centre(v["lane"]) + v["dd"], v) for v in scene.vehicles]
    return render(scene, cam, float(rng.uniform(0, 300)), d_v, psi, vehicles, rng)


class RoadRenderer:
    """A generated drive seen by a fixed dashcam: the road curves and climbs, the vehicle
    wanders in its lane and changes lanes now and then, traffic moves.

    Args:
        width, height: frame size (pixels).
        seed: fixes the whole drive.
        fps: frame rate; the vehicle moves 1/fps seconds per ``next()``.
        mix: scene distribution (``mix.V1`` by default: a calibrated pinhole dashcam on a
            marked road, which the geometry checks rely on; v2 kinds keep the camera).
    """

    def __init__(self, width: int = 1280, height: int = 720, seed: int = 0, fps: float = 25.0,
                 mix: SceneMix = V1):
        _check_size(width, height)
        if not fps > 0:
            raise InputError(f"road renderer: expected fps > 0, got {fps}")
        self.width, self.height, self.fps, self.seed = int(width), int(height), float(fps), seed
        self._rng = np.random.default_rng(int(seed))
        self.scene = apply_mix(sample_scene(self._rng, self.width, self.height, drive=True),
                               mix, drive=True)
        lay = self.scene.layout
        self.speed = float(self._rng.uniform(20.0, 32.0))
        self.s = 0.0
        self.lane = self.scene.ego_lane
        self.d = lay.lane_centre(self.lane)
        self._change = None                  # (start s, from d, to d, length m)
        self._next_change = self.s + self._rng.uniform(150, 500)
        self._phase = self._rng.uniform(0, 100, 4)
        self.s = -self.speed / self.fps      # the previous position sets the initial yaw
        self._d_prev = self._lateral()
        self.s = 0.0
        self.traffic = [dict(v, s=v["s"], speed=self.speed + v["speed"])
                        for v in self.scene.vehicles]
        self.frame_index = 0
        self._work = np.empty((self.height, self.width, 3), np.float32)

    def _lateral(self) -> float:
        lay = self.scene.layout
        n = len(lay.lane_widths)
        if self._change is None and self.s >= self._next_change and n > 1:
            to = self.lane + (1 if self.lane == 0 else -1 if self.lane == n - 1
                              else int(self._rng.choice([-1, 1])))
            self._change = (self.s, lay.lane_centre(self.lane), lay.lane_centre(to),
                            self.speed * self._rng.uniform(3.0, 6.0))
            self.lane = to
        wander = 0.18 * math.sin(self.s / 90.0 + self._phase[0]) + \
            0.08 * math.sin(self.s / 23.0 + self._phase[1])
        if self._change is not None:
            s0, a, b, length = self._change
            t = min(1.0, (self.s - s0) / length)
            centre = a + (b - a) * (0.5 - 0.5 * math.cos(math.pi * t))
            if t >= 1.0:
                self._change = None
                self._next_change = self.s + self._rng.uniform(200, 800)
        else:
            centre = lay.lane_centre(self.lane)
        return centre + wander

    def next(self, out: np.ndarray = None):
        """Advance one frame. Returns (frame BGR uint8 (H, W, 3), GroundTruth); the frame is
        written into ``out`` when given (it must be (H, W, 3) uint8)."""
        if out is not None and (out.shape != (self.height, self.width, 3)
                                or out.dtype != np.uint8):
            raise InputError(f"RoadRenderer.next: expected out of shape "
                             f"{(self.height, self.width, 3)} uint8, got {out.shape} {out.dtype}")
        ds = self.speed / self.fps
        self.s += ds
        d = self._lateral()
        psi = math.atan2(d - self._d_prev, ds)
        self._d_prev, self.d = d, d
        dt = 1.0 / self.fps
        vehicles = []
        for v in self.traffic:
            v["s"] += (v["speed"] - self.speed) * dt
            if v["s"] < -30 or v["s"] > 220:     # left behind or gone ahead: respawn
                v["s"] = 200.0 if v["s"] < 0 else -25.0
                if v["s"] > 0:
                    v["speed"] = self.speed - self._rng.uniform(0.5, 3.0)
                else:
                    v["speed"] = self.speed + self._rng.uniform(0.5, 3.0)
            if v["lane"] == self.lane and -8.0 < v["s"] < 14.0:
                v["speed"] = min(v["speed"], self.speed) if v["s"] > 0 else v["speed"]
                v["s"] = max(v["s"], 14.0) if v["s"] > 0 else min(v["s"], -8.0)
            vehicles.append((v["s"], self.scene.layout.lane_centre(v["lane"]) + v["dd"], v))
        ph = self._phase
        pitch = 0.0025 * math.sin(self.s / 7.0 + ph[2]) + 0.0012 * math.sin(self.s / 2.1 + ph[3])
        roll = 0.002 * math.sin(self.s / 11.0 + ph[3])
        cam = make_camera(self.scene, pitch, roll)
        frng = np.random.default_rng((int(self.seed) & 0x7FFFFFFF, self.frame_index))
        self.frame_index += 1
        return render(self.scene, cam, self.s, self.d, psi, vehicles, frng, out, self._work)
