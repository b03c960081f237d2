"""Camera calibration (intrinsics, undistortion, bird's-eye homography) and INT8 calibration sets."""

__all__ = []
