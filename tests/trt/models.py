"""Tiny ONNX lane models for the TensorRT tests, made with onnx.helper (no TensorFlow)."""

from pathlib import Path

import numpy as np

from lanecam.engines.modelspec import ModelSpec, spec_path_for

H, W = 8, 16
SPEC = ModelSpec(name="tiny", input_height=H, input_width=W, crop_top=0.3)


def tiny_onnx(path, dynamic: bool = False, nearest_tf: bool = False) -> Path:
    """NHWC image -> lane_prob (softmax over 5 classes, 1x1 conv) and lane_exist (4 sigmoid)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    batch = "batch" if dynamic else 1
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, [batch, H, W, 3])
    seg = helper.make_tensor_value_info("lane_prob", TensorProto.FLOAT, [batch, H, W, 5])
    ex = helper.make_tensor_value_info("lane_exist", TensorProto.FLOAT, [batch, 4])
    inits = [numpy_helper.from_array(rng.normal(size=(5, 3, 1, 1)).astype(np.float32), "w"),
             numpy_helper.from_array(rng.normal(size=(4, 5, 1, 1)).astype(np.float32), "w2")]
    nodes = [helper.make_node("Transpose", ["image"], ["nchw"], perm=[0, 3, 1, 2], name="t_in"),
             helper.make_node("Conv", ["nchw", "w"], ["logits"], name="conv")]
    if nearest_tf:  # the Resize tf2onnx makes from tf.keras UpSampling2D; TensorRT rejects it
        inits += [numpy_helper.from_array(np.zeros(0, np.float32), "roi"),
                  numpy_helper.from_array(np.array([1, 1, 1, 1], np.float32), "scales")]
        nodes.append(helper.make_node("Resize", ["logits", "roi", "scales"], ["logits_up"],
                                      name="up_nn", mode="nearest", nearest_mode="floor",
                                      coordinate_transformation_mode="tf_half_pixel_for_nn"))
    else:
        nodes.append(helper.make_node("Identity", ["logits"], ["logits_up"], name="id"))
    nodes += [helper.make_node("Softmax", ["logits_up"], ["prob"], axis=1, name="softmax"),
              helper.make_node("Transpose", ["prob"], ["lane_prob"], perm=[0, 2, 3, 1], name="t_out"),
              helper.make_node("Conv", ["prob", "w2"], ["e"], name="conv2"),
              helper.make_node("GlobalAveragePool", ["e"], ["gap"], name="gap"),
              helper.make_node("Flatten", ["gap"], ["flat"], name="flat"),
              helper.make_node("Sigmoid", ["flat"], ["lane_exist"], name="sig")]
    graph = helper.make_graph(nodes, "tiny", [x], [seg, ex], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for k, v in SPEC.to_metadata_props().items():
        model.metadata_props.add(key=k, value=v)
    onnx.checker.check_model(model)
    path = Path(path)
    onnx.save(model, str(path))
    SPEC.save(spec_path_for(path))
    return path


def fp16_onnx(path) -> Path:
    import onnx

    from lanecam.tools.export.fp16 import convert_to_fp16

    src = tiny_onnx(Path(path).with_name("src32.onnx"))
    onnx.save(convert_to_fp16(onnx.load(str(src))), str(path))
    SPEC.save(spec_path_for(path))
    return Path(path)


def int8_onnx(path, frames_dir) -> Path:
    from lanecam.calibration.int8 import CalibrationSet
    from lanecam.tools.export.int8 import quantize_qdq

    src = tiny_onnx(Path(path).with_name("src32.onnx"))
    quantize_qdq(src, path, CalibrationSet(frames_dir, SPEC, 4))
    SPEC.save(spec_path_for(path))
    return Path(path)


def frames(folder, n=4, seed=3) -> Path:
    """``n`` seeded random BGR frames as PNGs in ``folder`` (calibration / check stand-ins)."""
    import cv2

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        cv2.imwrite(str(folder / f"f{i}.png"), rng.integers(0, 256, (36, 64, 3), dtype=np.uint8))
    return folder


def reference(path, x):
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {"image": x})))
