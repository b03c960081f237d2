"""Camera calibration (intrinsics, undistortion, bird's-eye homography) and INT8 calibration sets."""

from lanecam.calibration.birdseye import (DASH_LENGTH_M, LANE_WIDTH_M, BirdsEye,
                                  along_scale_from_intrinsics, birdseye_from_points,
                                  birdseye_from_pose, pose_from_lines, pose_ground_to_image)
from lanecam.calibration.dashes import measure_dash_px
from lanecam.calibration.chessboard import CalibrationResult, calibrate_directory, calibrate_images
from lanecam.calibration.profile import (Profile, bundled_profile, load_profile, profile_from_pose,
                                 save_profile)

__all__ = [
    "BirdsEye", "CalibrationResult", "DASH_LENGTH_M", "LANE_WIDTH_M", "Profile",
    "along_scale_from_intrinsics", "birdseye_from_points", "birdseye_from_pose",
    "bundled_profile", "calibrate_directory", "calibrate_images", "load_profile",
    "measure_dash_px", "pose_from_lines", "pose_ground_to_image", "profile_from_pose",
    "save_profile",
]
