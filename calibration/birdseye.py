"""Bird's-eye view of the road plane: a homography from the (undistorted) image to a top view
whose pixels have a known size in metres.

Two ways to get it:
- ``birdseye_from_points``: four image points on two straight, parallel lane lines (the way a
  user calibrates a camera from one frame of a straight road); the lane width (3.7 m) sets the
  metres per pixel across the road and the length of a lane dash (3 m) the metres along it.
- ``birdseye_from_pose``: camera height, pitch (and roll) over a flat road plus intrinsics.

Metric road frame used everywhere: X metres to the right, Y metres forward, origin at the
vehicle point ``vehicle_px`` of the top view (the road point straight below/ahead of the camera).
"""

import math
from dataclasses import dataclass, field
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from lanecam.pipeline.errors import InputError

__all__ = ["BirdsEye", "birdseye_from_points", "birdseye_from_pose", "pose_ground_to_image",
           "pose_from_lines", "along_scale_from_intrinsics", "LANE_WIDTH_M", "DASH_LENGTH_M"]

LANE_WIDTH_M = 3.7   # US interstate lane width
DASH_LENGTH_M = 3.0  # US interstate dash (10 ft)


@dataclass
class BirdsEye:
    """The image -> top-view mapping stored in a profile under ``birdseye``.

    Attributes:
        src: float64 (4, 2) image points (undistorted pixels at ``image_size``).
        dst: float64 (4, 2) where they land in the top view (pixels).
        dst_size: (width, height) of the top view.
        m_per_px_x: metres per top-view pixel across the road.
        m_per_px_y: metres per top-view pixel along the road.
        vehicle_px: (x, y) top-view pixel of the vehicle (metric origin); may lie below the view.
        image_size: (width, height) of the images ``src`` refers to.
        method: "points" or "pose"; ``pose`` keeps height_m/pitch_rad/roll_rad when known.
    """

    src: np.ndarray
    dst: np.ndarray
    dst_size: Tuple[int, int]
    m_per_px_x: float
    m_per_px_y: float
    vehicle_px: Tuple[float, float]
    image_size: Tuple[int, int]
    method: str = "points"
    pose: dict = field(default_factory=dict)

    def __post_init__(self):
        self.src = np.asarray(self.src, np.float64).reshape(4, 2)
        self.dst = np.asarray(self.dst, np.float64).reshape(4, 2)
        for name, value in (("m_per_px_x", self.m_per_px_x), ("m_per_px_y", self.m_per_px_y)):
            if not (math.isfinite(value) and value > 0):
                raise InputError(f"birdseye.{name}: expected a positive number, got {value}")
        if abs(cv2.contourArea(self.src.astype(np.float32))) < 1.0:
            raise InputError("birdseye.src: expected 4 points spanning an area, got a degenerate set")

    def homography(self, frame_width: int, frame_height: int) -> np.ndarray:
        """3x3 homography from frame pixels (at the given frame size) to top-view pixels.

        Its sign is fixed so that the third homogeneous coordinate is positive on the road and
        negative above the horizon, which lets callers drop sky points.
        """
        h = cv2.getPerspectiveTransform(self.src.astype(np.float32), self.dst.astype(np.float32))
        # Fix the free sign so road points have w > 0 and points beyond the horizon w < 0.
        if (h @ np.r_[self.src.mean(axis=0), 1.0])[2] < 0:
            h = -h
        sx = self.image_size[0] / float(frame_width)
        sy = self.image_size[1] / float(frame_height)
        return h @ np.diag([sx, sy, 1.0])

    def to_metric(self, top_px: np.ndarray) -> np.ndarray:
        """Top-view pixels (N, 2) -> road metres (N, 2) as (X right, Y forward)."""
        top_px = np.asarray(top_px, np.float64).reshape(-1, 2)
        out = np.empty_like(top_px)
        out[:, 0] = (top_px[:, 0] - self.vehicle_px[0]) * self.m_per_px_x
        out[:, 1] = (self.vehicle_px[1] - top_px[:, 1]) * self.m_per_px_y
        return out

    def from_metric(self, xy_m: np.ndarray) -> np.ndarray:
        """Road metres (N, 2) -> top-view pixels (N, 2)."""
        xy_m = np.asarray(xy_m, np.float64).reshape(-1, 2)
        out = np.empty_like(xy_m)
        out[:, 0] = xy_m[:, 0] / self.m_per_px_x + self.vehicle_px[0]
        out[:, 1] = self.vehicle_px[1] - xy_m[:, 1] / self.m_per_px_y
        return out

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        d = {
            "method": self.method,
            "image_size": [int(self.image_size[0]), int(self.image_size[1])],
            "src": self.src.round(3).tolist(),
            "dst": self.dst.round(3).tolist(),
            "dst_size": [int(self.dst_size[0]), int(self.dst_size[1])],
            "m_per_px_x": float(self.m_per_px_x),
            "m_per_px_y": float(self.m_per_px_y),
            "vehicle_px": [round(float(v), 3) for v in self.vehicle_px],
        }
        if self.pose:
            d["pose"] = dict(self.pose)
        return d


def _rect_dst(dst_size: Tuple[int, int]) -> np.ndarray:
    # The two lines land at 1/4 and 3/4 of the width: one lane of margin on each side.
    w, h = dst_size
    return np.array([[w / 4, h], [w / 4, 0], [3 * w / 4, 0], [3 * w / 4, h]], np.float64)


def birdseye_from_points(src: Sequence, image_size: Tuple[int, int],
                         dst_size: Optional[Tuple[int, int]] = None,
                         lane_width_m: float = LANE_WIDTH_M,
                         m_per_px_y: Optional[float] = None,
                         vehicle_x: Optional[float] = None,
                         camera_matrix: Optional[np.ndarray] = None) -> BirdsEye:
    """Top view from four points on two straight lane lines of a flat road.

    Args:
        src: (4, 2) image points in the order left-bottom, left-top, right-top, right-bottom
            (on the left and the right line of the ego lane; undistorted image pixels).
        image_size: (width, height) of that image.
        dst_size: top-view size; default the image size.
        lane_width_m: real distance between the two lines; sets ``m_per_px_x``.
        m_per_px_y: metres per top-view row; None -> from the intrinsics when
            ``camera_matrix`` is given (``along_scale_from_intrinsics``), else the same as
            across (then set it from a dash length, see ``lanecam.calibration.dashes``).
        vehicle_x: image column of the vehicle centre; the vehicle point is that column on the
            bottom image row. None -> with ``camera_matrix``, the road point below the camera
            (so offset and curvature are measured at the vehicle, not several metres ahead);
            without, the image centre column.
        camera_matrix: the intrinsics of the (undistorted) image, or None.
    """
    src = np.asarray(src, np.float64).reshape(4, 2)
    if not np.all(np.isfinite(src)):
        raise InputError("birdseye points: expected 4 finite (x, y) points")
    if src[0, 1] <= src[1, 1] or src[3, 1] <= src[2, 1]:
        raise InputError("birdseye points: expected left-bottom, left-top, right-top, "
                         "right-bottom (each bottom point below its top point)")
    if src[0, 0] >= src[3, 0] or src[1, 0] >= src[2, 0]:
        raise InputError("birdseye points: expected the left line's points left of the right line's")
    dst_size = tuple(int(v) for v in (dst_size or image_size))
    dst = _rect_dst(dst_size)
    m_x = float(lane_width_m) / (dst[3, 0] - dst[0, 0])
    m_y = float(m_per_px_y) if m_per_px_y else m_x
    h = cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32))
    vx = image_size[0] / 2.0 if vehicle_x is None else float(vehicle_x)
    v = cv2.perspectiveTransform(np.array([[[vx, image_size[1] - 1.0]]], np.float64), h)[0, 0]
    bird = BirdsEye(src, dst, dst_size, m_x, m_y, (float(v[0]), float(v[1])),
                    tuple(int(s) for s in image_size), "points",
                    {"lane_width_m": float(lane_width_m)})
    if camera_matrix is None:
        return bird
    m_int, pose = along_scale_from_intrinsics(bird, camera_matrix, lane_width_m)
    bird.pose.update({"camera_height_m": round(pose["camera_height_m"], 4),
                      "pitch_rad": round(pose["pitch_rad"], 6),
                      "yaw_rad": round(pose["yaw_rad"], 6), "m_per_px_y_intrinsics": m_int})
    if not m_per_px_y:
        bird.m_per_px_y = m_int
    if vehicle_x is None:
        # Rows of the top view are linear in road distance, so the camera's foot lies
        # Y_bottom / m_int rows below the bottom points, and its column follows from X.
        xy = pose["road_xy"]
        bird.vehicle_px = (float(dst[0, 0] - xy[:2, 0].mean() / m_x),
                           float(dst[0, 1] + xy[[0, 3], 1].mean() / m_int))
    return bird


def pose_ground_to_image(camera_matrix: np.ndarray, height_m: float, pitch_rad: float,
                         roll_rad: float = 0.0) -> np.ndarray:
    """3x3 homography from road metres (X right, Y forward, 1) to image pixels.

    The camera is ``height_m`` above the road directly over the metric origin, looking forward,
    tilted down by ``pitch_rad`` and rolled by ``roll_rad`` (clockwise in the image is positive).
    """
    if not height_m > 0:
        raise InputError(f"camera height: expected a positive number of metres, got {height_m}")
    s, c = math.sin(pitch_rad), math.cos(pitch_rad)
    # Columns: the camera-frame images of the road X axis, the road Y axis, and the camera
    # -> origin offset (camera frame: x right, y down, z forward).
    ground = np.array([[1.0, 0.0, 0.0],
                       [0.0, -s, height_m * c],
                       [0.0, c, height_m * s]])
    cr, sr = math.cos(roll_rad), math.sin(roll_rad)
    roll = np.array([[cr, -sr, 0.0], [sr, cr, 0.0], [0.0, 0.0, 1.0]])
    return np.asarray(camera_matrix, np.float64) @ roll @ ground


def birdseye_from_pose(camera_matrix: np.ndarray, image_size: Tuple[int, int],
                       height_m: float, pitch_rad: float, roll_rad: float = 0.0,
                       x_range_m: float = 8.0, y_far_m: float = 40.0,
                       y_near_m: Optional[float] = None,
                       m_per_px: float = 0.02) -> BirdsEye:
    """Top view from the camera's height and pitch over a flat road.

    The view covers X in [-x_range_m, x_range_m] and Y from ``y_near_m`` (default: where the
    bottom image row meets the road) to ``y_far_m``, at ``m_per_px`` metres per pixel both ways.
    The vehicle point (metric origin) is the road point below the camera.
    """
    g = pose_ground_to_image(camera_matrix, height_m, pitch_rad, roll_rad)
    if y_near_m is None:
        ginv = np.linalg.inv(g)
        p = ginv @ np.array([image_size[0] / 2.0, image_size[1] - 1.0, 1.0])
        if p[2] <= 0:
            raise InputError("camera pose: the bottom image row does not see the road "
                             "(pitch too small or negative?)")
        y_near_m = max(0.0, float(p[1] / p[2]))
    if not y_far_m > y_near_m:
        raise InputError(f"birdseye: expected y_far_m > {y_near_m:.1f} m, got {y_far_m}")
    dst_w = int(round(2 * x_range_m / m_per_px))
    dst_h = int(round((y_far_m - y_near_m) / m_per_px))
    vehicle = (dst_w / 2.0, dst_h + y_near_m / m_per_px)
    ground = np.array([[-x_range_m, y_near_m], [-x_range_m, y_far_m],
                       [x_range_m, y_far_m], [x_range_m, y_near_m]], np.float64)
    src_h = (g @ np.c_[ground, np.ones(4)].T).T
    if np.any(src_h[:, 2] <= 0):
        raise InputError("camera pose: part of the bird's-eye area is behind the camera")
    src = src_h[:, :2] / src_h[:, 2:]
    dst = np.empty_like(ground)
    dst[:, 0] = ground[:, 0] / m_per_px + vehicle[0]
    dst[:, 1] = vehicle[1] - ground[:, 1] / m_per_px
    pose = {"height_m": float(height_m), "pitch_rad": float(pitch_rad), "roll_rad": float(roll_rad)}
    return BirdsEye(src, dst, (dst_w, dst_h), m_per_px, m_per_px, vehicle,
                    tuple(int(s) for s in image_size), "pose", pose)


def _line(p, q) -> np.ndarray:
    return np.cross([p[0], p[1], 1.0], [q[0], q[1], 1.0])


def pose_from_lines(src: Sequence, camera_matrix: np.ndarray,
                    lane_width_m: float = LANE_WIDTH_M) -> dict:
    """Road metres of the four ``birdseye_from_points`` points, from the intrinsics alone.

    The two lane lines meet at the road's vanishing point; with the camera matrix that fixes
    the forward direction, and (assuming no roll) the road plane. The lane width then fixes
    the scale. Returns {"road_xy": (4, 2) metres, "camera_height_m", "pitch_rad", "yaw_rad"}.
    This measures the along-road scale without counting on a dash length.
    """
    src = np.asarray(src, np.float64).reshape(4, 2)
    vp = np.cross(_line(src[0], src[1]), _line(src[3], src[2]))
    if abs(vp[2]) < 1e-9:
        raise InputError("birdseye points: the two lines are parallel in the image; "
                         "expected lines converging towards the horizon")
    kinv = np.linalg.inv(np.asarray(camera_matrix, np.float64))
    fwd = kinv @ (vp / vp[2])
    fwd /= np.linalg.norm(fwd)
    if vp[1] / vp[2] >= src[:, 1].min():
        raise InputError("birdseye points: the lines meet below the points; expected the "
                         "bottom points nearer the camera than the top points")
    right = np.cross([0.0, 1.0, 0.0], fwd)
    right /= np.linalg.norm(right)
    down = np.cross(fwd, right)
    rays = (kinv @ np.c_[src, np.ones(4)].T).T
    pts = rays / (rays @ down)[:, None]  # on the plane one unit below the camera
    xy = np.c_[pts @ right, pts @ fwd]
    width_units = xy[2:, 0].mean() - xy[:2, 0].mean()
    scale = float(lane_width_m) / width_units
    return {"road_xy": xy * scale, "camera_height_m": scale,
            "pitch_rad": float(-math.atan2(fwd[1], fwd[2])),
            "yaw_rad": float(math.atan2(fwd[0], fwd[2]))}


def along_scale_from_intrinsics(bird: BirdsEye, camera_matrix: np.ndarray,
                                lane_width_m: float = LANE_WIDTH_M) -> Tuple[float, dict]:
    """Metres per top-view row implied by the intrinsics for a points-made ``bird``.

    Returns (m_per_px_y, the ``pose_from_lines`` dict).
    """
    pose = pose_from_lines(bird.src, camera_matrix, lane_width_m)
    y = pose["road_xy"][:, 1]
    rows = bird.dst[[0, 3], 1] - bird.dst[[1, 2], 1]
    return float(np.mean((y[[1, 2]] - y[[0, 3]]) / rows)), pose
