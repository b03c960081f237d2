"""The helpers every engine shares: the ONNX Runtime session, the Q/DQ check, spec discovery."""

import json

import numpy as np
import pytest

pytest.importorskip("onnx")

from lanecam.engines.inputspec import InputSpec, find_spec, spec_path_for  # noqa: E402
from lanecam.engines.modelspec import ModelSpec  # noqa: E402
from lanecam.engines.ort_session import choose_providers, make_session  # noqa: E402
from lanecam.engines.qdq import is_qdq  # noqa: E402
from lanecam.pipeline.errors import InputError  # noqa: E402
from tinymodels import make_model, tiny_spec  # noqa: E402


def _one_node(op_type: str, node_name: str = "n"):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inits, out_type = [], TensorProto.FLOAT
    inputs = ["x"]
    if op_type in ("QuantizeLinear", "DynamicQuantizeLinear"):
        out_type = TensorProto.UINT8 if op_type == "DynamicQuantizeLinear" else TensorProto.INT8
    if op_type == "QuantizeLinear":
        inputs = ["x", "s", "z"]
        inits = [numpy_helper.from_array(np.array(0.1, np.float32), "s"),
                 numpy_helper.from_array(np.array(0, np.int8), "z")]
    outputs = ["y", "ys", "yz"] if op_type == "DynamicQuantizeLinear" else ["y"]
    graph = helper.make_graph(
        [helper.make_node(op_type, inputs, outputs, name=node_name)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", out_type, [1, 4])], inits)
    return onnx.helper.make_model(graph)


@pytest.mark.parametrize("op_type, node_name, want", [
    ("QuantizeLinear", "q", True),
    ("Relu", "QuantizeLinear", False),          # a node *named* like the op is not one
    ("Relu", "DequantizeLinear", False),
    ("DynamicQuantizeLinear", "d", False),      # dynamic quantization is not Q/DQ
    ("Relu", "r", False),
])
def test_is_qdq_reads_op_types_only(tmp_path, op_type, node_name, want):
    model = _one_node(op_type, node_name)
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    assert is_qdq(model) is want
    assert is_qdq(path) is want and is_qdq(str(path)) is want
    assert is_qdq(path.read_bytes()) is want


def test_make_session_runs_a_model_from_a_path_or_bytes(tmp_path):
    spec = tiny_spec()
    path = make_model(tmp_path / "m.onnx", spec)
    x = np.zeros(spec.input_shape, np.float32)
    for source in (path, path.read_bytes()):
        sess = make_session(source, threads=1)
        assert sess.get_providers() == ["CPUExecutionProvider"]
        assert sess.run([spec.seg_output], {spec.input_name: x})[0].shape[-1] == spec.num_classes


@pytest.mark.parametrize("content, name", [(b"not a protobuf at all" * 10, None),
                                           (b"", "model.onnx")])
def test_make_session_refuses_a_bad_file_in_one_line_naming_it(tmp_path, content, name):
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    with pytest.raises(InputError, match="not a loadable ONNX model") as info:
        make_session(path, optimize=False, name=name)
    message = str(info.value)
    assert message.startswith(f"{name or path}:") and "\n" not in message


def test_choose_providers_refuses_an_unavailable_one_and_defaults_to_priority():
    with pytest.raises(InputError, match="NoSuchExecutionProvider"):
        choose_providers(["NoSuchExecutionProvider"])
    assert choose_providers()[-1] == "CPUExecutionProvider"


# ---- spec discovery -------------------------------------------------------------------------
def test_find_spec_order_argument_embedded_sidecar(tmp_path):
    model = tmp_path / "m.onnx"
    given, embedded, sidecar = (ModelSpec(name=n) for n in ("given", "embedded", "sidecar"))
    sidecar.save(spec_path_for(model))
    props = embedded.to_metadata_props()
    assert find_spec(model, ModelSpec, given, embedded=props) is given
    assert find_spec(model, ModelSpec, embedded=props).name == "embedded"
    assert find_spec(model, ModelSpec, embedded={"other": "x"}).name == "sidecar"
    assert find_spec(model, ModelSpec).name == "sidecar"


def test_find_spec_error_lists_where_it_looked(tmp_path):
    model = tmp_path / "m.onnx"
    with pytest.raises(InputError) as info:
        find_spec(model, ModelSpec, embedded={}, embedded_in="ONNX metadata")
    assert str(info.value) == (f"{model}: no ModelSpec (none given, none in the ONNX metadata, "
                               f"no m.spec.json beside it); {ModelSpec.how_to_make}")
    with pytest.raises(InputError, match=r"\(none given, no m.spec.json beside it\); use X$"):
        find_spec(model, ModelSpec, hint="use X")
    with pytest.raises(InputError, match="expected a ModelSpec, got InputSpec"):
        find_spec(model, ModelSpec, InputSpec())


def test_find_spec_names_the_source_of_a_bad_card(tmp_path):
    model = tmp_path / "m.onnx"
    bad = {ModelSpec.metadata_key: json.dumps({"name": "x", "colour": "rgb"})}
    with pytest.raises(InputError, match=r"m.onnx ONNX metadata: unknown keys \['colour'\]"):
        find_spec(model, ModelSpec, embedded=bad, embedded_in="ONNX metadata")


def test_model_cards_share_the_input_contract():
    from lanecam.pipeline.heatmap.spec import HeatmapSpec

    for card in (ModelSpec(), HeatmapSpec()):
        assert isinstance(card, InputSpec)
        assert card.input_shape == (1, card.input_height, card.input_width, 3)
        assert type(card).from_json(card.to_json()) == card
        with pytest.raises(InputError, match=f"{card.kind}: layout: expected NHWC or NCHW"):
            card.replace(layout="HWC")
    assert ModelSpec().replace(layout="NCHW").input_shape == (1, 3, 128, 320)
