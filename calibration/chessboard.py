"""Chessboard camera calibration: photos of a printed board -> intrinsics and distortion.

The classic detector (``findChessboardCorners`` refined with ``cornerSubPix``) is tried first;
the sector-based detector (``findChessboardCornersSB``) is the fallback. A board is used only
when *all* inner corners are found and none lies on the image border: a corner cut by the
border cannot be located to sub-pixel accuracy and biases the distortion model.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from lanecam.pipeline.errors import InputError

__all__ = ["CalibrationResult", "parse_board", "find_corners", "calibrate_images",
           "calibrate_directory", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
DETECTORS = ("auto", "classic", "sb")
# cornerSubPix's winSize is the half side: (11, 11) searches a 23x23 window. A corner whose
# window does not fit inside the image sits on a cut-off square and cannot be trusted.
_SUBPIX_HALF = 11
_BORDER_PX = _SUBPIX_HALF + 1
_SUBPIX_CRITERIA = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 40, 0.001)


@dataclass
class CalibrationResult:
    """What ``calibrate_images`` found; ``to_dict()`` is the profile JSON written by the CLI.

    Attributes:
        image_size: (width, height) the intrinsics refer to (the majority size of the photos).
        camera_matrix: float64 (3, 3).
        dist_coeffs: float64 (K,) OpenCV distortion coefficients (k1, k2, p1, p2, k3).
        rms: overall RMS reprojection error in pixels.
        per_image_error: image name -> RMS reprojection error of that board in pixels.
        images_used: names of the photos that took part.
        images_rejected: image name -> why it was skipped.
        images_resized: image name -> "WxH -> WxH" for photos brought to the majority size.
    """

    image_size: Tuple[int, int]
    camera_matrix: np.ndarray
    dist_coeffs: np.ndarray
    rms: float
    per_image_error: Dict[str, float]
    images_used: List[str]
    images_rejected: Dict[str, str]
    images_resized: Dict[str, str] = field(default_factory=dict)
    board: Tuple[int, int] = (9, 6)

    def to_dict(self) -> dict:
        """JSON-ready dict (plain lists and floats)."""
        return {
            "image_size": [int(self.image_size[0]), int(self.image_size[1])],
            "camera_matrix": np.asarray(self.camera_matrix, float).round(6).tolist(),
            "dist_coeffs": np.asarray(self.dist_coeffs, float).ravel().round(8).tolist(),
            "rms": round(float(self.rms), 4),
            "per_image_error": {k: round(float(v), 4) for k, v in self.per_image_error.items()},
            "images_used": list(self.images_used),
            "images_rejected": dict(self.images_rejected),
            "images_resized": dict(self.images_resized),
            "board": [int(self.board[0]), int(self.board[1])],
        }


def parse_board(text: str) -> Tuple[int, int]:
    """Parse "9x6" (inner corners per row x per column) into (9, 6)."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", str(text))
    if not m or int(m.group(1)) < 2 or int(m.group(2)) < 2:
        raise InputError(f"--board: expected inner corners as COLSxROWS like 9x6, got {text!r}")
    return int(m.group(1)), int(m.group(2))


def _natural_key(path: Path):
    # calibration2 before calibration10
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


def find_corners(gray: np.ndarray, board: Tuple[int, int],
                 detector: str = "auto") -> Tuple[Optional[np.ndarray], str]:
    """Find all inner corners of ``board`` in a grayscale image.

    Returns:
        (corners float32 (N, 1, 2), "") when every corner was found away from the border,
        else (None, reason).
    """
    if detector not in DETECTORS:
        raise InputError(f"detector: expected one of {DETECTORS}, got {detector!r}")
    corners = None
    if detector in ("auto", "classic"):
        flags = cv2.CALIB_CB_ADAPTIVE_THRESH | cv2.CALIB_CB_NORMALIZE_IMAGE
        ok, found = cv2.findChessboardCorners(gray, board, flags=flags)
        if ok:
            win = (_SUBPIX_HALF, _SUBPIX_HALF)
            corners = cv2.cornerSubPix(gray, found, win, (-1, -1), _SUBPIX_CRITERIA)
    if corners is None and detector in ("auto", "sb"):
        flags = cv2.CALIB_CB_EXHAUSTIVE | cv2.CALIB_CB_ACCURACY
        ok, found = cv2.findChessboardCornersSB(gray, board, flags=flags)
        if ok:
            corners = found.reshape(-1, 1, 2).astype(np.float32)
    if corners is None:
        return None, f"not all {board[0]}x{board[1]} inner corners found"
    h, w = gray.shape[:2]
    xy = corners.reshape(-1, 2)
    if (xy.min() < _BORDER_PX or xy[:, 0].max() > w - 1 - _BORDER_PX
            or xy[:, 1].max() > h - 1 - _BORDER_PX):
        return None, "board touches the image border (corners cut off)"
    return corners, ""


def _read_gray(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise InputError(f"{path}: not a readable image")
    return img


def calibrate_images(paths: Sequence, board: Tuple[int, int] = (9, 6), square_mm: float = 1.0,
                     detector: str = "auto", max_size_diff: int = 2,
                     min_images: int = 3) -> CalibrationResult:
    """Calibrate one camera from chessboard photos.

    Photos whose size differs from the majority size by at most ``max_size_diff`` pixels in
    each direction are resized to it (and listed in ``images_resized``); larger differences
    are rejected. ``square_mm`` scales the board only (it does not change the intrinsics).

    Raises:
        InputError: no readable image, or fewer than ``min_images`` usable boards.
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise InputError("calibration: no images given")
    if square_mm <= 0:
        raise InputError(f"--square-mm: expected a positive size, got {square_mm}")
    images = {p.name: _read_gray(p) for p in paths}
    sizes = Counter((im.shape[1], im.shape[0]) for im in images.values())
    size = sizes.most_common(1)[0][0]
    obj = np.zeros((board[0] * board[1], 3), np.float32)
    obj[:, :2] = np.mgrid[0:board[0], 0:board[1]].T.reshape(-1, 2) * float(square_mm)

    used, found, rejected, resized = [], [], {}, {}
    for name, img in images.items():
        w, h = img.shape[1], img.shape[0]
        if (w, h) != size:
            if abs(w - size[0]) > max_size_diff or abs(h - size[1]) > max_size_diff:
                rejected[name] = f"size {w}x{h} differs from the majority {size[0]}x{size[1]}"
                continue
            img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
            resized[name] = f"{w}x{h} -> {size[0]}x{size[1]}"
        corners, reason = find_corners(img, board, detector)
        if corners is None:
            rejected[name] = reason
            continue
        used.append(name)
        found.append(corners)
    if len(used) < min_images:
        raise InputError(f"calibration: {len(used)} usable boards of {len(images)} images, "
                         f"expected at least {min_images} with all {board[0]}x{board[1]} "
                         "inner corners visible (is --board right?)")
    objs = [obj] * len(found)
    rms, K, dist, rvecs, tvecs = cv2.calibrateCamera(objs, found, size, None, None)
    per_image = {}
    for name, corners, rvec, tvec in zip(used, found, rvecs, tvecs):
        proj, _ = cv2.projectPoints(obj, rvec, tvec, K, dist)
        err = proj.reshape(-1, 2) - corners.reshape(-1, 2)
        per_image[name] = float(np.sqrt(np.mean(np.sum(err * err, axis=1))))
    return CalibrationResult(size, K, dist.ravel(), float(rms), per_image, used, rejected,
                             resized, tuple(board))


def calibrate_directory(directory, **kwargs) -> CalibrationResult:
    """``calibrate_images`` over every image file in ``directory`` (natural name order)."""
    d = Path(directory)
    if not d.is_dir():
        raise InputError(f"{d}: expected a folder of chessboard photos")
    paths = sorted((p for p in d.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
                   key=_natural_key)
    if not paths:
        raise InputError(f"{d}: no images ({', '.join(IMAGE_SUFFIXES)}) in the folder")
    return calibrate_images(paths, **kwargs)
