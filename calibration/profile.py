"""Camera profile: intrinsics, distortion and (optionally) the bird's-eye mapping, as JSON.

The pipeline loads a profile once (``load_profile``), asks it once for undistortion maps at the
video's frame size (``Profile.undistort_maps``) and remaps every frame with them.
"""

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Tuple

import cv2
import numpy as np

from lanecam.calibration.birdseye import BirdsEye, birdseye_from_pose
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.outputs import write_atomic
from lanecam.pipeline.safe_load import json_loads

__all__ = ["Profile", "load_profile", "save_profile", "profile_from_dict", "profile_from_pose",
           "bundled_profile"]

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"


@dataclass
class Profile:
    """One camera.

    Attributes:
        image_size: (width, height) the intrinsics refer to.
        camera_matrix: float64 (3, 3).
        dist_coeffs: float64 (K,) OpenCV distortion coefficients (zeros for a pinhole camera).
        birdseye: the road top-view mapping, or None.
        extra: everything else in the file (rms, per-image errors, ...), kept on save.
    """

    image_size: Tuple[int, int]
    camera_matrix: np.ndarray
    dist_coeffs: np.ndarray
    birdseye: Optional[BirdsEye] = None
    extra: dict = field(default_factory=dict)

    @property
    def has_distortion(self) -> bool:
        """True when any distortion coefficient is non-zero."""
        return bool(np.any(np.abs(self.dist_coeffs) > 0))

    def scaled_camera_matrix(self, width: int, height: int) -> np.ndarray:
        """The camera matrix for frames of ``width`` x ``height`` (same camera, resized frames)."""
        k = np.array(self.camera_matrix, np.float64)
        sx, sy = width / float(self.image_size[0]), height / float(self.image_size[1])
        k[0, :] *= sx
        k[1, :] *= sy
        return k

    def undistort_maps(self, width: int, height: int) -> Tuple[np.ndarray, np.ndarray]:
        """Maps for ``cv2.remap`` that undistort ``width`` x ``height`` frames; compute once.

        The output keeps the (scaled) camera matrix, so undistorted pixels share the
        intrinsics the bird's-eye points were picked with. Returns (map1, map2) in the compact
        CV_16SC2 form, which remaps faster than float maps.
        """
        if width <= 0 or height <= 0:
            raise InputError(f"undistort_maps: expected a positive frame size, got {width}x{height}")
        k = self.scaled_camera_matrix(width, height)
        return cv2.initUndistortRectifyMap(k, self.dist_coeffs, None, k, (int(width), int(height)),
                                           cv2.CV_16SC2)

    def undistort_points(self, points: np.ndarray, width: int, height: int) -> np.ndarray:
        """Distorted frame pixels (N, 2) -> undistorted frame pixels (N, 2)."""
        pts = np.asarray(points, np.float64).reshape(-1, 1, 2)
        if len(pts) == 0 or not self.has_distortion:
            return pts.reshape(-1, 2)
        k = self.scaled_camera_matrix(width, height)
        return cv2.undistortPoints(pts, k, self.dist_coeffs, P=k).reshape(-1, 2)

    def to_dict(self) -> dict:
        """JSON-ready dict: the calibration, the extra keys, then the bird's-eye mapping."""
        d = {
            "image_size": [int(self.image_size[0]), int(self.image_size[1])],
            "camera_matrix": np.asarray(self.camera_matrix, float).round(6).tolist(),
            "dist_coeffs": np.asarray(self.dist_coeffs, float).ravel().round(8).tolist(),
        }
        d.update((k, v) for k, v in self.extra.items() if k not in d)
        if self.birdseye is not None:
            d["birdseye"] = self.birdseye.to_dict()
        return d


def _array(d: dict, key: str, shape, where: str) -> np.ndarray:
    if key not in d:
        raise InputError(f"{where}: missing key '{key}'")
    try:
        arr = np.asarray(d[key], np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{where}: '{key}' expected numbers, got {d[key]!r}") from None
    if shape is not None and arr.shape != shape:
        raise InputError(f"{where}: '{key}' expected shape {list(shape)}, got {list(arr.shape)}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{where}: '{key}' expected finite numbers")
    return arr


def _size(d: dict, key: str, where: str) -> Tuple[int, int]:
    arr = _array(d, key, (2,), where)
    if np.any(arr < 1) or np.any(arr != np.round(arr)):
        raise InputError(f"{where}: '{key}' expected [width, height] in whole pixels, got {d[key]!r}")
    return int(arr[0]), int(arr[1])


def _positive(d: dict, key: str, where: str) -> float:
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        raise InputError(f"{where}: '{key}' expected a positive number, got {v!r}")
    return float(v)


def _birdseye_from_dict(b: dict, where: str) -> BirdsEye:
    if not isinstance(b, dict):
        raise InputError(f"{where}: expected an object, got {type(b).__name__}")
    return BirdsEye(
        src=_array(b, "src", (4, 2), where),
        dst=_array(b, "dst", (4, 2), where),
        dst_size=_size(b, "dst_size", where),
        m_per_px_x=_positive(b, "m_per_px_x", where),
        m_per_px_y=_positive(b, "m_per_px_y", where),
        vehicle_px=tuple(_array(b, "vehicle_px", (2,), where).tolist()),
        image_size=_size(b, "image_size", where),
        method=str(b.get("method", "points")),
        pose=dict(b.get("pose", {})),
    )


def profile_from_dict(d: dict, source: str = "profile") -> Profile:
    """Validate a parsed profile; ``source`` names it in error messages."""
    if not isinstance(d, dict):
        raise InputError(f"{source}: expected a JSON object, got {type(d).__name__}")
    size = _size(d, "image_size", source)
    k = _array(d, "camera_matrix", (3, 3), source)
    if k[0, 0] <= 0 or k[1, 1] <= 0 or k[2, 2] != 1 or k[2, 0] != 0 or k[2, 1] != 0:
        raise InputError(f"{source}: 'camera_matrix' expected [[fx,0,cx],[0,fy,cy],[0,0,1]] "
                         "with fx, fy > 0")
    dist = _array(d, "dist_coeffs", None, source).ravel()
    if dist.size not in (0, 4, 5, 8, 12, 14):
        raise InputError(f"{source}: 'dist_coeffs' expected 4, 5, 8, 12 or 14 numbers, "
                         f"got {dist.size}")
    dist = dist if dist.size else np.zeros(5)
    bird = None
    if d.get("birdseye") is not None:
        bird = _birdseye_from_dict(d["birdseye"], f"{source}: 'birdseye'")
    known = {"image_size", "camera_matrix", "dist_coeffs", "birdseye"}
    extra = {k2: v for k2, v in d.items() if k2 not in known}
    return Profile(size, k, dist, bird, extra)


def load_profile(path) -> Profile:
    """Read and validate a profile JSON file.

    ``path`` may also be the name of a bundled profile ("udacity"). Raises ``InputError``
    naming the file and the offending key when the file is missing or malformed.
    """
    p = Path(path)
    if not p.exists() and not p.suffix and (PROFILES_DIR / f"{p.name}.json").exists():
        p = PROFILES_DIR / f"{p.name}.json"
    if not p.is_file():
        raise InputError(f"{p}: calibration profile not found (expected a JSON file made by "
                         "`lanecam calibrate`)")
    try:
        d = json_loads(p.read_text(), str(p))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{p}: not a JSON calibration profile ({exc})") from None
    return profile_from_dict(d, str(p))


def save_profile(profile: Profile, path, flag: str = "profile") -> Path:
    """Write ``profile`` as indented JSON; returns the path.

    Written under a temporary name in the same folder and renamed when complete, so a failed
    write never leaves half a profile and a previous profile of that name stays whole until
    the new one replaces it (``lanecam birdseye`` updates a profile in place this way).
    ``flag`` names the path in the one-line error of a failed write. Missing folders are made.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(p, json.dumps(profile.to_dict(), indent=2) + "\n", flag)


def bundled_profile(name: str) -> Path:
    """Path of a profile shipped in ``calibration/profiles`` (e.g. "udacity")."""
    p = PROFILES_DIR / f"{name}.json"
    if not p.is_file():
        names = sorted(q.stem for q in PROFILES_DIR.glob("*.json"))
        raise InputError(f"no bundled calibration profile {name!r}; available: {names}")
    return p


def profile_from_pose(fx: float, fy: float, cx: float, cy: float, width: int, height: int,
                      height_m: float, pitch_rad: float, roll_rad: float = 0.0,
                      **birdseye_kwargs) -> Profile:
    """Profile of a distortion-free camera at a known pose (e.g. the road renderer's camera):
    intrinsics plus the bird's-eye view from ``birdseye_from_pose``."""
    k = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]], np.float64)
    bird = birdseye_from_pose(k, (width, height), height_m, pitch_rad, roll_rad,
                              **birdseye_kwargs)
    return Profile((int(width), int(height)), k, np.zeros(5), bird)
