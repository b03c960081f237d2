"""Small ONNX graph edits the exporter needs: renaming tensors, metadata, constants, hashing.

``onnx`` is imported by the callers; these helpers work on ``onnx.ModelProto`` objects.
"""

from typing import Dict, Optional

import numpy as np

from lanecam.engines.engine_cache import sha256_file  # noqa: F401  (re-exported)
from lanecam.engines.modelspec import METADATA_KEY, ModelSpec

__all__ = ["rename_tensor", "set_spec_metadata", "constant_value", "sha256_file",
           "set_batch_dim_name"]


def rename_tensor(model, old: str, new: str) -> None:
    """Rename the tensor ``old`` to ``new`` everywhere in the main graph (inputs, outputs, nodes).

    Raises ValueError when ``new`` already names another tensor, which would silently join two
    different values.
    """
    if old == new:
        return
    graph = model.graph
    taken = {v.name for v in list(graph.input) + list(graph.output) + list(graph.value_info)}
    taken |= {i.name for i in graph.initializer}
    for node in graph.node:
        taken |= set(node.output)
    if new in taken:
        raise ValueError(f"cannot rename tensor {old!r} to {new!r}: that name is already used")
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = new
        for i, name in enumerate(node.output):
            if name == old:
                node.output[i] = new
    for value in list(graph.input) + list(graph.output) + list(graph.value_info):
        if value.name == old:
            value.name = new


def set_spec_metadata(model, spec: ModelSpec, extra: Optional[Dict[str, str]] = None) -> None:
    """Write ``spec`` (and ``extra`` key/values) into ``metadata_props``, replacing old values."""
    props = dict(spec.to_metadata_props())
    props.update(extra or {})
    keep = [p for p in model.metadata_props if p.key not in props and p.key != METADATA_KEY]
    del model.metadata_props[:]
    for p in keep:
        model.metadata_props.add(key=p.key, value=p.value)
    for key, value in props.items():
        model.metadata_props.add(key=key, value=value)


def constant_value(model, name: str) -> Optional[np.ndarray]:
    """The value of tensor ``name`` when it is an initializer or a Constant node's output."""
    from onnx import numpy_helper

    if not name:
        return None
    for init in model.graph.initializer:
        if init.name == name:
            return numpy_helper.to_array(init)
    for node in model.graph.node:
        if node.op_type == "Constant" and node.output[0] == name:
            for attr in node.attribute:
                if attr.name == "value":
                    return numpy_helper.to_array(attr.t)
    return None


def set_batch_dim_name(model, name: str = "batch") -> None:
    """Give the symbolic first dimension of every graph input/output one readable name."""
    for value in list(model.graph.input) + list(model.graph.output):
        dims = value.type.tensor_type.shape.dim
        if dims and not dims[0].HasField("dim_value"):
            dims[0].dim_param = name

