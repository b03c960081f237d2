"""Calibrate a camera from chessboard photos and write a profile JSON.

Every image in DIR is searched for the board's inner corners (COLSxROWS, e.g. 9x6). Boards
whose corners are not all visible are skipped and named; photos whose size differs from the
majority by a pixel or two are resized to it and reported. The profile holds image_size,
camera_matrix, dist_coeffs, rms, per_image_error, images_used and images_rejected; add the
bird's-eye points afterwards with `lanecam birdseye`.

example: lanecam calibrate ../shared/data/camera_cal --board 9x6 -o udacity.json
"""

import json
import sys

from lanecam.pipeline.options import finite_float

__all__ = ["add_arguments", "run"]


def add_arguments(parser):
    """Arguments of `lanecam calibrate`."""
    parser.add_argument("directory", metavar="DIR", help="folder of chessboard photos")
    parser.add_argument("--board", default="9x6",
                        help="inner corners per row x per column (default 9x6)")
    parser.add_argument("--square-mm", type=finite_float, default=1.0,
                        help="side of one square in mm (only scales the board; default 1)")
    parser.add_argument("--detector", choices=("auto", "classic", "sb"), default="auto",
                        help="corner detector: classic findChessboardCorners+cornerSubPix, "
                             "sb findChessboardCornersSB, auto = classic then sb (default)")
    parser.add_argument("--max-size-diff", type=int, default=2,
                        help="resize photos within this many pixels of the majority size, "
                             "reject the rest (default 2)")
    parser.add_argument("-o", "--output", required=True, metavar="PROFILE.json",
                        help="profile to write")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args) -> int:
    """Calibrate, write the profile, print a summary."""
    from lanecam.calibration.chessboard import calibrate_directory, parse_board
    from lanecam.calibration.profile import profile_from_dict
    from lanecam.pipeline.outputs import check_outputs, write_atomic

    # checked before the minutes of corner search: a read-only or missing folder, a folder
    # name, or a photo of DIR given as -o is one line now rather than a traceback at the end
    check_outputs({"DIR": args.directory}, {"-o": args.output})
    board = parse_board(args.board)
    result = calibrate_directory(args.directory, board=board, square_mm=args.square_mm,
                                 detector=args.detector, max_size_diff=args.max_size_diff)
    data = result.to_dict()
    profile = profile_from_dict(data, args.output)
    path = write_atomic(args.output, json.dumps(profile.to_dict(), indent=2) + "\n", "-o")
    if args.json:
        json.dump(data, sys.stdout, indent=2)
        print()
        return 0
    k = result.camera_matrix
    print(f"boards used: {len(result.images_used)} of "
          f"{len(result.images_used) + len(result.images_rejected)}")
    for name, why in result.images_rejected.items():
        print(f"  skipped {name}: {why}")
    for name, what in result.images_resized.items():
        print(f"  resized {name}: {what}")
    worst = max(result.per_image_error.items(), key=lambda kv: kv[1])
    print(f"rms reprojection error: {result.rms:.3f} px (worst board {worst[0]}: {worst[1]:.2f} px)")
    print(f"fx={k[0, 0]:.1f} fy={k[1, 1]:.1f} cx={k[0, 2]:.1f} cy={k[1, 2]:.1f} "
          f"at {result.image_size[0]}x{result.image_size[1]}")
    print("dist_coeffs: " + " ".join(f"{v:.4f}" for v in result.dist_coeffs))
    print(f"wrote {path}")
    return 0
