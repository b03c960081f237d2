"""Chessboard calibration: synthetic boards with a known camera, and the real Udacity photos."""

import json

import cv2
import numpy as np
import pytest

from lanecam.calibration import calibrate_directory, calibrate_images
from lanecam.calibration.chessboard import parse_board
from lanecam.pipeline.cli import main
from lanecam.pipeline.errors import InputError

K_TRUE = np.array([[520.0, 0.0, 322.0], [0.0, 515.0, 238.0], [0.0, 0.0, 1.0]])
SIZE = (640, 480)
SQ = 40  # board pixels per square


def _board_image(cols=9, rows=6):
    """White-margined board with (cols+1) x (rows+1) squares; its inner corners start at
    (SQ * 2, SQ * 2) board pixels."""
    img = np.full(((rows + 5) * SQ, (cols + 5) * SQ), 255, np.uint8)
    for r in range(rows + 1):
        for c in range(cols + 1):
            if (r + c) % 2 == 0:
                y, x = (r + 1) * SQ + SQ // 2 * 2, (c + 1) * SQ + SQ // 2 * 2
                img[y - SQ:y, x - SQ:x] = 0
    return img


def _render(rvec, tvec, size=SIZE):
    board = _board_image()
    # board pixel (u, v) -> board-plane units (inner corner (0,0) at pixel (2*SQ, 2*SQ)),
    # then K [r1 r2 t].
    shift = np.array([[1.0 / SQ, 0, -2.0], [0, 1.0 / SQ, -2.0], [0, 0, 1]])
    r = cv2.Rodrigues(np.asarray(rvec, float))[0]
    h = K_TRUE @ np.c_[r[:, 0], r[:, 1], np.asarray(tvec, float)] @ shift
    img = cv2.warpPerspective(board, h, size, flags=cv2.INTER_AREA, borderValue=128)
    return cv2.GaussianBlur(img, (3, 3), 0)


POSES = [((0.3, 0.2, 0.05), (-4, -2.5, 14)), ((-0.3, 0.3, -0.1), (-4, -3, 13)),
         ((0.25, -0.35, 0.1), (-3.5, -2, 12)), ((-0.2, -0.3, 0.0), (-4.5, -2.5, 15)),
         ((0.4, 0.05, 0.2), (-3, -3.5, 13)), ((0.0, 0.45, -0.15), (-4, -2, 14)),
         ((-0.35, 0.0, 0.1), (-4, -2, 12))]


@pytest.fixture(scope="module")
def board_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("boards")
    for i, (rv, tv) in enumerate(POSES):
        cv2.imwrite(str(d / f"board{i + 1}.png"), _render(rv, tv))
    # A board pushed off the right edge: not all corners visible.
    cv2.imwrite(str(d / "board_cut.png"), _render((0.1, 0.2, 0.0), (0.5, -2.5, 12)))
    # One pixel larger than the others, like two of the Udacity photos.
    big = cv2.resize(_render((0.2, 0.1, 0.0), (-4, -2.5, 13)), (SIZE[0] + 1, SIZE[1] + 1))
    cv2.imwrite(str(d / "board_big.png"), big)
    return d


def test_synthetic_boards_recover_the_camera(board_dir):
    res = calibrate_directory(board_dir)
    assert res.image_size == SIZE
    assert "board_cut.png" in res.images_rejected
    assert res.images_resized == {"board_big.png": "641x481 -> 640x480"}
    assert len(res.images_used) == len(POSES) + 1
    assert res.rms < 0.5
    k = res.camera_matrix
    assert k[0, 0] == pytest.approx(K_TRUE[0, 0], rel=0.01)
    assert k[1, 1] == pytest.approx(K_TRUE[1, 1], rel=0.01)
    assert k[0, 2] == pytest.approx(K_TRUE[0, 2], abs=4)
    assert k[1, 2] == pytest.approx(K_TRUE[1, 2], abs=4)
    assert set(res.per_image_error) == set(res.images_used)


def test_cli_writes_profile(board_dir, tmp_path, capsys):
    out = tmp_path / "cam.json"
    assert main(["calibrate", str(board_dir), "--board", "9x6", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "skipped board_cut.png" in text and "resized board_big.png" in text
    d = json.loads(out.read_text())
    for key in ("image_size", "camera_matrix", "dist_coeffs", "rms", "per_image_error",
                "images_used", "images_rejected"):
        assert key in d
    assert d["image_size"] == list(SIZE) and len(d["camera_matrix"]) == 3


def test_too_different_size_rejected(tmp_path):
    for i, (rv, tv) in enumerate(POSES[:4]):
        cv2.imwrite(str(tmp_path / f"b{i}.png"), _render(rv, tv))
    cv2.imwrite(str(tmp_path / "small.png"), _render(*POSES[4], size=(320, 240)))
    res = calibrate_directory(tmp_path)
    assert "size 320x240" in res.images_rejected["small.png"]


@pytest.mark.parametrize("text", ["9", "9x", "axb", "1x6", "9x6x2"])
def test_bad_board_text(text):
    with pytest.raises(InputError, match="--board"):
        parse_board(text)


def test_bad_inputs(tmp_path):
    with pytest.raises(InputError, match="no images"):
        calibrate_directory(tmp_path)
    with pytest.raises(InputError, match="expected a folder"):
        calibrate_directory(tmp_path / "nope")
    (tmp_path / "x.jpg").write_bytes(b"not an image")
    with pytest.raises(InputError, match="not a readable image"):
        calibrate_directory(tmp_path)
    cv2.imwrite(str(tmp_path / "x.jpg"), np.full((48, 64), 128, np.uint8))
    with pytest.raises(InputError, match="usable boards"):
        calibrate_images([tmp_path / "x.jpg"])


def test_udacity_camera_cal(shared_data, tmp_path):
    """The Udacity camera: RMS <= 1.3 px, fx within 2 % of 1157, the 3 cut boards named."""
    out = tmp_path / "udacity.json"
    assert main(["calibrate", str(shared_data / "camera_cal"), "--board", "9x6",
                 "-o", str(out)]) == 0
    d = json.loads(out.read_text())
    assert d["rms"] <= 1.3
    assert d["camera_matrix"][0][0] == pytest.approx(1157, rel=0.02)
    assert d["camera_matrix"][1][1] == pytest.approx(1152, rel=0.02)
    assert set(d["images_rejected"]) == {"calibration1.jpg", "calibration4.jpg",
                                         "calibration5.jpg"}
    assert len(d["images_used"]) == 17
    assert set(d["images_resized"]) == {"calibration7.jpg", "calibration15.jpg"}
