"""Fixtures for the evaluate CLI: a tiny generated ONNX lane model and a matching TuSimple folder.

The model ignores its input (its output is a constant map with two known lines, L1 and R1), so
the scores it must get are known exactly.
"""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from lanecam.engines.modelspec import ModelSpec

W, H = 1280, 720
SPEC = ModelSpec(name="tiny", input_height=128, input_width=320, crop_top=0.35, crop_bottom=0.0)
ROWS = list(range(160, 720, 10))


def line_x(slope, y):
    return 640.0 + slope * (np.asarray(y, np.float64) - 230.0)


SLOPES = {"L1": -0.8, "R1": 0.8}


def _constant_map() -> np.ndarray:
    h, w = SPEC.input_height, SPEC.input_width
    top, bottom = SPEC.crop_rows(H)
    fy = top + (np.arange(h) + 0.5) * (bottom - top) / h - 0.5
    cols = np.arange(w)[None, :]
    out = np.zeros((1, h, w, SPEC.num_classes), np.float32)
    for slot, slope in SLOPES.items():
        xm = (line_x(slope, fy) + 0.5) * w / W - 0.5
        out[0, :, :, 1 + SPEC.slot_names.index(slot)] = 0.9 * np.exp(-0.5 * (cols - xm[:, None]) ** 2)
    out[0, :, :, 0] = 1 - out[0, :, :, 1:].sum(axis=2)
    return out


def gt_lanes():
    """TuSimple GT of the constant map's lines on ROWS (points from row 260 down)."""
    return [[int(round(line_x(s, y))) if y >= 260 else -2 for y in ROWS] for s in SLOPES.values()]


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    const = _constant_map()
    exist = np.array([[0.1, 0.9, 0.9, 0.1]], np.float32)
    nodes = [
        helper.make_node("ReduceMean", ["image"], ["m"], keepdims=1),
        helper.make_node("Mul", ["m", "zero"], ["z"]),
        helper.make_node("Add", ["z", "map"], ["lane_prob"]),
        helper.make_node("Reshape", ["z", "shape2"], ["z2"]),
        helper.make_node("Add", ["z2", "exist"], ["lane_exist"]),
    ]
    inits = [numpy_helper.from_array(np.zeros((1, 1, 1, 1), np.float32), "zero"),
             numpy_helper.from_array(const, "map"), numpy_helper.from_array(exist, "exist"),
             numpy_helper.from_array(np.array([1, 1], np.int64), "shape2")]
    graph = helper.make_graph(
        nodes, "tiny_lanes",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, list(SPEC.input_shape))],
        [helper.make_tensor_value_info("lane_prob", TensorProto.FLOAT, list(const.shape)),
         helper.make_tensor_value_info("lane_exist", TensorProto.FLOAT, [1, 4])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    helper.set_model_props(model, SPEC.to_metadata_props())
    onnx.checker.check_model(model)
    path = tmp_path_factory.mktemp("model") / "tiny.onnx"
    onnx.save(model, str(path))
    SPEC.save(path.with_name("tiny.spec.json"))
    return path


def textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A frame with texture: a flat one counts as "no road" and gets no lanes by design."""
    return np.random.default_rng(seed).integers(40, 200, (h, w, 3), dtype=np.uint8)


@pytest.fixture
def tusimple_dir(tmp_path) -> Path:
    """A TuSimple-style folder: two textured frames and labels matching the tiny model's lines."""
    root = tmp_path / "tusimple"
    (root / "images").mkdir(parents=True)
    with (root / "labels.json").open("w") as fh:
        for i in range(2):
            name = f"images/{i:04d}.png"
            cv2.imwrite(str(root / name), textured(H, W, i))
            fh.write(json.dumps({"raw_file": name, "lanes": gt_lanes(), "h_samples": ROWS}) + "\n")
    return root
