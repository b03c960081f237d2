"""Set a profile's bird's-eye view from four road points on a frame, or from the camera pose.

Pick four points on the two lines of a straight ego lane in this order: left-bottom, left-top,
right-top, right-bottom. With a display, a window opens on the (undistorted) frame: click the
points, Backspace undoes, Enter accepts, Esc cancels. Without one, give them with --points.
Metres per pixel: across the road from --lane-width (3.7 m); along the road (--along) from
the intrinsics (auto, the default: the lines' vanishing point fixes the road plane), or from
a measured dash of --dash-length (3 m), or set --m-per-px-along. Both estimates are printed.
Or skip the points: --pose HEIGHT_M,PITCH_DEG[,ROLL_DEG] uses the camera pose instead.

example: lanecam birdseye udacity.json --frame straight_lines1.jpg
             --points 264,680,584,460,700,460,1042,680 --preview /tmp/birdseye.png
"""

import math
import os
import sys

from lanecam.pipeline.options import finite_float

__all__ = ["add_arguments", "run"]


def add_arguments(parser):
    """Arguments of `lanecam birdseye`."""
    parser.add_argument("profile", metavar="PROFILE.json", help="profile to update (from calibrate)")
    parser.add_argument("--frame", help="image or video to pick the points on")
    parser.add_argument("--frame-index", type=int, default=0, help="frame of a video (default 0)")
    parser.add_argument("--points", help="x1,y1,...,x4,y4 in frame pixels (of the undistorted frame)")
    parser.add_argument("--pose", help="HEIGHT_M,PITCH_DEG[,ROLL_DEG]: camera pose instead of points")
    parser.add_argument("--no-undistort", action="store_true",
                        help="the frame is already undistorted")
    parser.add_argument("--lane-width", type=finite_float, default=3.7,
                        help="lane width in m (3.7)")
    parser.add_argument("--dash-length", type=finite_float, default=3.0,
                        help="dash length in m (3.0)")
    parser.add_argument("--along", choices=("auto", "intrinsics", "dash"), default="auto",
                        help="source of the along-road scale (auto = intrinsics)")
    parser.add_argument("--m-per-px-along", type=finite_float,
                        help="override the along-road scale")
    parser.add_argument("--dst-size", help="top-view size WxH (default: the image size)")
    parser.add_argument("--vehicle-x", type=finite_float,
                        help="image column of the vehicle centre on the bottom row (default: "
                             "the road point below the camera, from the intrinsics)")
    parser.add_argument("--preview", help="write the marked frame and its top view to this PNG")
    parser.add_argument("-o", "--output", help="write here instead of updating PROFILE")


def _floats(text, name, counts):
    try:
        vals = [float(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        vals = []
    if len(vals) not in counts or not all(math.isfinite(v) for v in vals):
        from lanecam.pipeline.errors import InputError
        raise InputError(f"{name}: expected {' or '.join(map(str, counts))} comma-separated "
                         f"numbers, got {text!r}")
    return vals


def _read_frame(path, index):
    import cv2
    from lanecam.pipeline.errors import InputError
    img = cv2.imread(path)
    if img is not None:
        return img
    cap = cv2.VideoCapture(path)
    try:
        cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, img = cap.read()
    finally:
        cap.release()
    if not ok:
        raise InputError(f"--frame {path}: expected a readable image or video (frame {index})")
    return img


def _has_display() -> bool:
    import cv2
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")):
        return False
    try:
        cv2.namedWindow("lanecam birdseye", cv2.WINDOW_NORMAL)
    except cv2.error:
        return False  # a headless OpenCV build
    return True


def _pick_points(frame):
    """Four clicks in a window; returns a list of (x, y) or None when cancelled."""
    import cv2
    win, pts = "lanecam birdseye", []
    cv2.setMouseCallback(win, lambda ev, x, y, *_: pts.append((x, y))
                         if ev == cv2.EVENT_LBUTTONDOWN and len(pts) < 4 else None)
    try:
        while True:
            view = frame.copy()
            for i, p in enumerate(pts):
                cv2.circle(view, p, 6, (0, 0, 255), 2)
                cv2.putText(view, str(i + 1), (p[0] + 8, p[1] - 8), 0, 0.8, (0, 0, 255), 2)
            for a, b in zip(pts, pts[1:]):
                cv2.line(view, a, b, (0, 255, 0), 1)
            cv2.imshow(win, view)
            key = cv2.waitKey(30) & 0xFF
            if key == 27:
                return None
            if key in (8, 127) and pts:
                pts.pop()
            if key in (10, 13) and len(pts) == 4:
                return pts
    finally:
        cv2.destroyWindow(win)


def _updown(pitch_rad: float) -> str:
    return f"{abs(math.degrees(pitch_rad)):.2f} deg {'down' if pitch_rad >= 0 else 'up'}"


def run(args) -> int:
    """Compute the bird's-eye mapping and save it into the profile."""
    import cv2
    import numpy as np

    from lanecam.calibration import birdseye_from_points, birdseye_from_pose, load_profile, save_profile
    from lanecam.calibration.dashes import measure_dash_px
    from lanecam.pipeline.errors import InputError

    _check_paths(args)
    prof = load_profile(args.profile)
    iw, ih = prof.image_size
    frame, native = None, None
    if args.frame:
        frame = _read_frame(args.frame, args.frame_index)
        native = (frame.shape[1], frame.shape[0])
        if not args.no_undistort:
            m1, m2 = prof.undistort_maps(frame.shape[1], frame.shape[0])
            frame = cv2.remap(frame, m1, m2, cv2.INTER_LINEAR)
        frame = cv2.resize(frame, (iw, ih)) if frame.shape[:2] != (ih, iw) else frame
    k = prof.camera_matrix
    if args.pose:
        vals = _floats(args.pose, "--pose", (2, 3))
        bird = birdseye_from_pose(k, (iw, ih), vals[0], math.radians(vals[1]),
                                  math.radians(vals[2]) if len(vals) > 2 else 0.0)
        print(f"from pose: height {vals[0]} m, pitch {vals[1]} deg; "
              f"{bird.m_per_px_x:.4f} m/px both ways")
    else:
        if args.points:
            pts = np.array(_floats(args.points, "--points", (8,))).reshape(4, 2)
            if native is not None:  # the points are in the given frame's own pixels
                pts *= [iw / native[0], ih / native[1]]
        elif frame is None:
            raise InputError("birdseye: expected --points, --pose, or a --frame to click on")
        elif not _has_display():
            raise InputError("birdseye: no display to click the points on; pass "
                             "--points x1,y1,x2,y2,x3,y3,x4,y4 (left-bottom, left-top, "
                             "right-top, right-bottom)")
        else:
            picked = _pick_points(frame)
            if picked is None:
                print("cancelled; profile unchanged")
                return 1
            pts = np.array(picked, float)
        dst_size = tuple(_floats(args.dst_size.replace("x", ","), "--dst-size", (2,))) \
            if args.dst_size else None
        bird = birdseye_from_points(pts, (iw, ih), dst_size, args.lane_width,
                                    vehicle_x=args.vehicle_x, camera_matrix=k)
        m_int = bird.m_per_px_y
        pose = bird.pose
        m_dash, dash = None, None
        if frame is not None:
            top = cv2.warpPerspective(frame, bird.homography(iw, ih), bird.dst_size)
            dash = measure_dash_px(top, bird.dst[[0, 3], 0])
            if dash:
                m_dash = args.dash_length / dash[0]
        print(f"across: {bird.m_per_px_x:.5f} m/px ({args.lane_width} m lane)")
        far = bird.to_metric(bird.dst)[:, 1].max()
        print(f"along from intrinsics: {m_int:.5f} m/px (camera {pose['camera_height_m']:.2f} m "
              f"above the road, pitched {_updown(pose['pitch_rad'])}; view "
              f"reaches {far:.1f} m ahead)")
        if dash:
            print(f"along from dashes: {m_dash:.5f} m/px ({dash[2]} dash(es) of {dash[0]:.0f} px "
                  f"= {args.dash_length} m; the intrinsics make them "
                  f"{dash[0] * m_int:.2f} m)")
        else:
            print("along from dashes: no complete dash found")
        if args.m_per_px_along:
            along, why = args.m_per_px_along, "given"
        elif args.along == "dash":
            if m_dash is None:
                raise InputError("--along dash: no complete dash found on the --frame")
            along, why = m_dash, "dashes"
        else:
            along, why = m_int, "intrinsics"
        bird.m_per_px_y = float(along)
        bird.pose["along_from"] = why
        if dash:
            bird.pose["dash_px"] = dash[0]
        print(f"using along = {along:.5f} m/px ({why})")
    prof.birdseye = bird
    out = save_profile(prof, args.output or args.profile, "-o" if args.output else "PROFILE")
    if args.preview and frame is not None:
        _write_preview(args.preview, frame, bird)
        print(f"wrote preview {args.preview}")
    print(f"wrote {out}")
    return 0


def _check_paths(args) -> None:
    """Before any work: no output overwrites an input (the profile itself is updated in place
    by design, written atomically), the output folders are writable, --preview is an image."""
    from lanecam.pipeline.constants import IMAGE_EXTENSIONS
    from lanecam.pipeline.errors import InputError
    from lanecam.pipeline.outputs import check_outputs

    if args.preview and os.path.splitext(args.preview)[1].lower() not in IMAGE_EXTENSIONS:
        raise InputError(f"--preview {args.preview}: expected an image file name "
                         f"({', '.join(IMAGE_EXTENSIONS)})")
    check_outputs({"PROFILE": args.profile, "--frame": args.frame}, {"--preview": args.preview})
    check_outputs({"--frame": args.frame},
                  {("-o" if args.output else "PROFILE"): args.output or args.profile,
                   "--preview": args.preview})


def _write_preview(path, frame, bird):
    import cv2
    import numpy as np
    view = frame.copy()
    cv2.polylines(view, [np.round(bird.src).astype(np.int32)], True, (0, 0, 255), 2)
    top = cv2.warpPerspective(frame, bird.homography(frame.shape[1], frame.shape[0]),
                              bird.dst_size)
    # A line every 5 m along the road, and the vehicle point.
    for y_m in range(0, 200, 5):
        y = int(round(bird.from_metric([[0.0, y_m]])[0, 1]))
        if 0 <= y < top.shape[0]:
            cv2.line(top, (0, y), (top.shape[1] - 1, y), (0, 255, 255), 1)
            cv2.putText(top, f"{y_m} m", (5, y - 3), 0, 0.6, (0, 255, 255), 1)
    vx, vy = (int(round(v)) for v in bird.vehicle_px)
    cv2.circle(top, (vx, min(vy, top.shape[0] - 1)), 8, (255, 0, 255), -1)
    scale = frame.shape[0] / float(top.shape[0])
    top = cv2.resize(top, (int(round(top.shape[1] * scale)), frame.shape[0]))
    from lanecam.pipeline.outputs import write_atomic

    ok, data = cv2.imencode(os.path.splitext(path)[1], np.hstack([view, top]))
    if not ok:
        from lanecam.pipeline.errors import InputError

        raise InputError(f"--preview {path}: OpenCV cannot write this image type")
    write_atomic(path, data.tobytes(), "--preview")
