"""A Keras model file opened once, its format decided once from its first bytes.

The code check (``keras_code_scan``) and the loader (``keras_loader``) must read the same bytes
in the same format: a file that one reads as a zip archive and the other as HDF5 lets a
``Lambda`` through (an HDF5 model with a harmless zip appended, or a zip with an HDF5 model
after it, is both). So the format is decided here, once, by the signature at offset 0, never
by the file name and never by "can this library read it":

- ``h5``: the HDF5 signature ``\\x89HDF\\r\\n\\x1a\\n`` at offset 0 (a legacy Keras 1/2 or
  Keras 3 ``.h5``, whatever the file's name);
- ``zip``: ``PK\\x03\\x04`` at offset 0 (a Keras 3 ``.keras`` archive).

A file that is also the other format is refused: HDF5 with a zip end-of-central-directory
record (what every zip reader looks for, at the end of the file), or a zip with an HDF5
signature where the HDF5 library also looks for one (offsets 512, 1024, 2048, ...: the
"user block" positions, so ``h5py`` opens such a file as HDF5). Anything else is not a Keras
file. ``KerasFile`` keeps the one open file handle; the scan and the loader both read through
it (``h5py.File`` on the handle, ``zipfile.ZipFile`` on the handle), so the file cannot be
swapped between the check and the load either.
"""

import os
import zipfile
from pathlib import Path
from typing import BinaryIO, Optional

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.lazy import require

__all__ = ["KerasFile", "HDF5_SIGNATURE", "ZIP_SIGNATURE", "keras_format"]

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
ZIP_SIGNATURE = b"PK\x03\x04"
# where the HDF5 library looks for its signature besides offset 0 (the user block sizes)
_FIRST_USER_BLOCK = 512


def _hdf5_signature_after_start(fh: BinaryIO, size: int) -> Optional[int]:
    """The first offset 512 * 2**k (< size) holding the HDF5 signature, or None."""
    offset = _FIRST_USER_BLOCK
    while offset + len(HDF5_SIGNATURE) <= size:
        fh.seek(offset)
        if fh.read(len(HDF5_SIGNATURE)) == HDF5_SIGNATURE:
            return offset
        offset *= 2
    return None


def _decide(fh: BinaryIO, path: Path) -> str:
    """``"h5"`` or ``"zip"`` for the open file ``fh`` (see the module docstring)."""
    head = fh.read(len(HDF5_SIGNATURE))
    size = os.fstat(fh.fileno()).st_size
    if head == HDF5_SIGNATURE:
        fh.seek(0)
        if zipfile.is_zipfile(fh):
            raise InputError(f"{path}: both an HDF5 file and a zip archive (a zip directory at "
                             f"its end); refused: a model file must be one or the other")
        return "h5"
    if head.startswith(ZIP_SIGNATURE):
        at = _hdf5_signature_after_start(fh, size)
        if at is not None:
            raise InputError(f"{path}: both a zip archive and an HDF5 file (HDF5 signature at "
                             f"offset {at}); refused: a model file must be one or the other")
        return "zip"
    raise InputError(f"{path}: not a Keras model file (expected an HDF5 .h5 or a .keras zip "
                     f"archive, by its first bytes)")


def keras_format(path) -> str:
    """``"saved_model"`` for a SavedModel folder, else the file's format, ``"h5"`` or ``"zip"``,
    from its first bytes (``InputError`` for a file that is neither, or both)."""
    path = Path(path)
    if path.is_dir():
        return "saved_model"
    with KerasFile(path) as kf:
        return kf.format


class KerasFile:
    """A Keras model file, open, with its ``format`` (``"h5"`` or ``"zip"``) decided.

    Use as a context manager; ``fh`` is the binary file handle, ``h5()`` an ``h5py.File``
    reading it (format ``h5``), ``zip()`` a ``zipfile.ZipFile`` reading it (format ``zip``).
    Everything that reads the model goes through these, so it reads what was checked.

    Raises:
        InputError: missing, unreadable, neither format or both.
    """

    def __init__(self, path):
        self.path = Path(path)
        try:
            self.fh: BinaryIO = open(self.path, "rb")
        except OSError as exc:
            raise InputError(f"{self.path}: cannot read the model ({exc.strerror})") from None
        self._h5 = None
        try:
            self.format = _decide(self.fh, self.path)
        except BaseException:
            self.fh.close()
            raise
        self.fh.seek(0)

    def h5(self):
        """The file as an ``h5py.File`` (read-only, on ``fh``); format ``h5`` only."""
        if self.format != "h5":
            raise ValueError(f"{self.path} is a {self.format} file, not HDF5")
        if self._h5 is None:
            h5py = require("h5py", "train", "reading a Keras .h5 model")
            self.fh.seek(0)
            try:
                self._h5 = h5py.File(self.fh, "r")
            except OSError as exc:
                raise InputError(f"{self.path}: damaged HDF5 file ({exc})") from None
        return self._h5

    def zip(self) -> zipfile.ZipFile:
        """The file as a ``zipfile.ZipFile`` (on ``fh``); format ``zip`` only."""
        if self.format != "zip":
            raise ValueError(f"{self.path} is a {self.format} file, not a zip archive")
        self.fh.seek(0)
        try:
            return zipfile.ZipFile(self.fh)
        except (zipfile.BadZipFile, OSError):
            raise InputError(f"{self.path}: damaged zip archive; not a .keras model") from None

    def close(self) -> None:
        """Close the HDF5 view and the file; idempotent."""
        if self._h5 is not None:
            try:
                self._h5.close()
            finally:
                self._h5 = None
        self.fh.close()

    def __enter__(self) -> "KerasFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
