"""Output files that never destroy an input, never alias each other and never appear half
written under their final name.

- ``check_outputs`` refuses, before anything is opened, an output that is one of the inputs
  (also through a symlink, a hard link or another spelling of the path), two outputs that are
  the same file, and an output folder inside an input folder; and an output whose folder does
  not exist or cannot be written. A glob input (``"frames/*.jpg"``) stands for every file it
  matches, and for the files it would match: an output matching it is refused too.
- ``PartialFile`` is the writing side: the data goes to a hidden temporary name in the same
  folder (``.NAME.partial-PID.EXT``: same file system, same extension, so muxers pick the same
  container) and ``commit()`` renames it into place in one step (``os.replace``);
  ``discard()`` removes it. A run killed with SIGKILL leaves only the temporary file, and a
  previous output of the same name stays as it was until the new one is complete.
- Special files (``/dev/stdout``, a FIFO) are written directly: they cannot be renamed into.
"""

import contextlib
import fnmatch
import glob
import os
import stat
from pathlib import Path, PurePath
from typing import Dict, Iterator, Optional

from lanecam.pipeline.errors import InputError, LanecamError

__all__ = ["check_outputs", "check_writable_folder", "make_folder", "PartialFile", "write_atomic",
           "atomic_path", "is_special_file", "same_file"]


def is_special_file(path) -> bool:
    """True for an existing path that is a device, FIFO or socket (written in place)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISBLK(mode)


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same inode when both exist (links, other
    spellings), else the same resolved path."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _inside(inner: Path, outer: Path) -> bool:
    inner, outer = inner.resolve(), outer.resolve()
    return inner == outer or outer in inner.parents


def check_writable_folder(flag: str, path) -> None:
    """Refuse ``path`` as a file output when its folder is missing or not writable, or when it
    names an existing folder (``InputError`` naming the flag and the path)."""
    path = Path(path)
    if is_special_file(path):
        return
    if path.is_dir():
        raise InputError(f"{flag} {path}: is a folder, expected a file name")
    folder = path.parent if str(path.parent) else Path(".")
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{flag} {path}: {folder} is a file, not a folder")
    if not folder.is_dir():
        raise InputError(f"{flag} {path}: output folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{flag} {path}: output folder {folder} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(f"{flag} {path}: exists and is read-only")


def make_folder(path, flag: str) -> Path:
    """Make the output folder ``path`` with its parents, or refuse it (``InputError`` naming the
    flag: a file of that name, no permission, a read-only file system)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{flag} {path}: is a file, expected a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{flag} {path}: cannot make the folder ({exc.strerror})") from None
    return path


def check_outputs(inputs: Dict[str, Optional[str]], files: Dict[str, Optional[str]],
                  folders: Optional[Dict[str, Optional[str]]] = None) -> None:
    """Refuse outputs that would overwrite an input or each other (``InputError``).

    Args:
        inputs: flag -> input path (files or folders; None entries and URLs are skipped).
        files: flag -> output file path (checked with ``check_writable_folder`` too).
        folders: flag -> output folder (e.g. ``--images``): may not be an input folder, lie
            inside one, or contain an input file.
    """
    local_inputs = [(flag, Path(p)) for flag, p in inputs.items() if p and _is_local(p)]
    patterns = [(flag, p) for flag, p in local_inputs if _is_glob(p)]
    local_inputs = [(flag, p) for flag, p in local_inputs if not _is_glob(p)] + [
        (flag, Path(m)) for flag, p in patterns for m in glob.glob(str(p), recursive=True)]
    outs = [(flag, Path(p)) for flag, p in files.items() if p]
    for flag, out in outs:
        if is_special_file(out):
            continue
        for in_flag, inp in local_inputs:
            if same_file(out, inp) or (inp.is_dir() and _inside(out, inp)):
                raise InputError(f"{flag} {out}: is the input {in_flag} {inp}; choose another "
                                 f"output name (an output never overwrites an input)")
        for in_flag, pattern in patterns:
            if _matches(out, pattern):
                raise InputError(f"{flag} {out}: matches the input {in_flag} {pattern}; choose "
                                 f"another output name (an output never overwrites an input)")
        check_writable_folder(flag, out)
    for i, (flag_a, a) in enumerate(outs):
        for flag_b, b in outs[i + 1:]:
            if not is_special_file(a) and same_file(a, b):
                raise InputError(f"{flag_a} and {flag_b} are the same file ({a}); give each "
                                 f"output its own name")
    for flag, folder in (folders or {}).items():
        if not folder:
            continue
        folder = Path(folder)
        for in_flag, inp in local_inputs:
            inside = _inside(folder, inp) if inp.is_dir() else _inside(inp, folder)
            if inside:
                raise InputError(f"{flag} {folder}: would write into the input {in_flag} "
                                 f"{inp}; choose a folder outside the input")
        for out_flag, out in outs:
            if _inside(out, folder) and out.suffix.lower() in (".jpg", ".png", ".bmp"):
                raise InputError(f"{flag} {folder}: would overwrite {out_flag} {out}")


def _is_local(text: str) -> bool:
    return "://" not in str(text) or str(text).startswith("file://")


def _is_glob(path: Path) -> bool:
    """A glob pattern (``*``, ``?``, ``[``) that is not itself an existing path."""
    return glob.has_magic(str(path)) and not os.path.lexists(path)


def _matches(out: Path, pattern: Path) -> bool:
    """Whether ``out`` is (or would be) one of the files of the glob ``pattern``: absolute
    paths compared, as written and with the folders before the wildcards resolved (links)."""
    absolute = Path(os.path.abspath(out))
    outs = {str(absolute), str(absolute.parent.resolve() / absolute.name)}
    parts = Path(os.path.abspath(pattern)).parts
    fixed = next(i for i, part in enumerate(parts) if glob.has_magic(part))
    patterns = {str(Path(*parts)), str(Path(*parts[:fixed]).resolve().joinpath(*parts[fixed:]))}
    for text in outs:
        for pat in patterns:
            # ``*`` stays within a folder (PurePath.match); ``**`` spans any number of them,
            # none included (fnmatch's ``*`` crosses folders)
            if PurePath(text).match(pat) or ("**" in pat and (
                    fnmatch.fnmatchcase(text, pat) or
                    PurePath(text).match(pat.replace("**" + os.sep, "")))):
                return True
    return False


class PartialFile:
    """A file written under a temporary name and renamed into place when complete.

    ``path`` is where the writer writes (the temporary name, or the final path for special
    files); ``commit()`` renames it to ``final``; ``discard()`` deletes it. Both idempotent.
    """

    def __init__(self, final, flag: str = "output"):
        self.final = Path(final)
        self.flag = flag
        if is_special_file(self.final):
            self.path = self.final
        else:
            name = self.final.name
            stem, dot, ext = name.rpartition(".")
            hidden = f".{stem}.partial-{os.getpid()}.{ext}" if dot and stem else \
                f".{name}.partial-{os.getpid()}"
            self.path = self.final.with_name(hidden)
        self._done = False

    @property
    def in_place(self) -> bool:
        """True when written directly (a special file such as /dev/stdout)."""
        return self.path == self.final

    def commit(self) -> Path:
        """Rename the complete file to its final name; returns the final path."""
        if not self._done:
            self._done = True
            if not self.in_place and os.path.lexists(self.path):  # nothing written: no file
                try:
                    os.replace(self.path, self.final)
                except OSError as exc:
                    raise LanecamError(f"{self.flag} {self.final}: cannot move the finished "
                                       f"output into place ({exc.strerror})") from None
        return self.final

    def discard(self) -> None:
        """Delete the temporary file (the final name is left as it was)."""
        if not self._done:
            self._done = True
            if not self.in_place:
                try:
                    os.unlink(self.path)
                except FileNotFoundError:
                    pass


def write_atomic(path, data, flag: str = "output") -> Path:
    """Write ``data`` (str or bytes) to ``path`` through a ``PartialFile``; returns the path.

    Errors (disk full, read-only file system) are one ``LanecamError`` line naming the flag and
    the path; nothing is left under either name.
    """
    target = PartialFile(path, flag)
    mode = "w" if isinstance(data, str) else "wb"
    try:
        with open(target.path, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as fh:
            fh.write(data)
    except OSError as exc:
        target.discard()
        raise LanecamError(f"{flag} {path}: cannot write ({exc.strerror})") from None
    return target.commit()


@contextlib.contextmanager
def atomic_path(final, flag: str = "output") -> Iterator[Path]:
    """A temporary path beside ``final`` for a writer that takes a path (``onnx.save``,
    ``model.save``, a copy): renamed to ``final`` when the block ends, deleted when it raises.

    The temporary name keeps the extension (``.NAME.partial-PID.EXT``), so writers that choose
    the format by extension behave the same. A failed or interrupted write leaves a previous
    ``final`` as it was and no temporary file; an ``OSError`` (disk full, read-only) becomes
    one ``LanecamError`` line naming ``flag`` and ``final``.
    """
    target = PartialFile(final, flag)
    try:
        yield target.path
    except OSError as exc:
        target.discard()
        raise LanecamError(f"{flag} {final}: cannot write ({exc.strerror or exc})") from None
    except BaseException:
        target.discard()
        raise
    target.commit()
