"""Image folders and globs (``frames/``, ``clips/**/*.jpg``) read in natural sort order."""

import glob
import os
import re
from typing import List, Optional

from lanecam.pipeline.constants import IMAGE_EXTENSIONS
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.sources.base import Pacer, ReadResult, ReadStatus, Source, copy_into
from lanecam.pipeline.sources.capture import import_cv2

__all__ = ["ImageFolderSource", "has_glob_magic"]


def has_glob_magic(text: str) -> bool:
    """True when ``text`` contains glob wildcards (``*``, ``?``, ``[``)."""
    return glob.has_magic(text)


def _natural_key(name: str):
    # "frame2.jpg" before "frame10.jpg", as a person numbering frames means it
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def _glob_root(pattern: str) -> str:
    """The folder part of ``pattern`` before its first wildcard (names are relative to it)."""
    parts = pattern.replace(os.sep, "/").split("/")
    fixed = []
    for part in parts[:-1]:
        if has_glob_magic(part):
            break
        fixed.append(part)
    return "/".join(fixed) or "."


class ImageFolderSource(Source):
    """The images of a folder (not recursive) or of a glob pattern, in natural sort order.

    Args:
        uri: a folder, a glob pattern (``**`` recurses) or a single image file.
        fps: nominal frame rate reported to sinks (the folder has none); default 25.
        realtime: pace at ``fps`` and behave as a live source.
        path: the path when ``uri`` is a ``file://`` URI.

    Every image must have the size of the first one (``read`` raises ``InputError`` naming the
    odd one out). ``source_name`` is the image path relative to the folder (or to the fixed
    part of the glob), with ``/`` separators: TuSimple's ``raw_file``. ``ts`` is index / fps.
    """

    def __init__(self, uri: str, fps: float = 25.0, realtime: bool = False,
                 path: Optional[str] = None):
        super().__init__(uri)
        self.path = path or uri
        if not fps or fps <= 0:
            raise InputError(f"{uri}: fps must be > 0, got {fps}")
        self.fps = float(fps)
        self.realtime = bool(realtime)
        self.is_live = self.realtime
        self.files: List[str] = []
        self.root = "."
        self._index = 0
        self._cv2 = None
        self._pacer: Optional[Pacer] = None

    def _list(self) -> None:
        uri = self.path
        if os.path.isdir(uri):
            self.root = uri
            names = [n for n in os.listdir(uri) if n.lower().endswith(IMAGE_EXTENSIONS)]
            files = [os.path.join(uri, n) for n in names]
            if not files:
                raise InputError(f"{uri}: no images in this folder (expected "
                                 f"{', '.join(IMAGE_EXTENSIONS)} files)")
        elif has_glob_magic(uri):
            self.root = _glob_root(uri)
            files = [f for f in glob.glob(uri, recursive=True)
                     if os.path.isfile(f) and f.lower().endswith(IMAGE_EXTENSIONS)]
            if not files:
                raise InputError(f"{uri}: the pattern matches no image files")
        elif os.path.isfile(uri):
            self.root = os.path.dirname(uri) or "."
            files = [uri]
        else:
            raise InputError(f"{uri}: no such folder or image file")
        rel = [os.path.relpath(f, self.root).replace(os.sep, "/") for f in files]
        order = sorted(range(len(files)), key=lambda i: _natural_key(rel[i]))
        self.files = [files[i] for i in order]
        self._names = [rel[i] for i in order]

    def _load(self, index: int):
        path = self.files[index]
        image = self._cv2.imread(path, self._cv2.IMREAD_COLOR)
        if image is None:
            raise InputError(f"{path}: not a readable image")
        return image

    def _open(self) -> None:
        self._cv2 = import_cv2("reading images")
        self._list()
        first = self._load(0)
        self.height, self.width = first.shape[:2]
        self.frame_count = len(self.files)
        self._index = 0
        self._pacer = Pacer(self.fps) if self.realtime else None

    def _read(self, out, timeout: float) -> ReadResult:
        if self._index >= len(self.files):
            return ReadStatus.END, None, 0.0
        image = self._load(self._index)
        if image.shape[:2] != (self.height, self.width):
            raise InputError(f"{self.files[self._index]}: is {image.shape[1]}x{image.shape[0]}, "
                             f"expected {self.width}x{self.height} like the first image of "
                             f"{self.uri}")
        self.source_name = self._names[self._index]
        ts = self._index / self.fps
        self._index += 1
        if self._pacer is not None:
            self._pacer.wait()
        return ReadStatus.OK, copy_into(image, out), ts


def open_images(uri: str, fps: float = 25.0, realtime: bool = False,
                **options) -> ImageFolderSource:
    """Registry factory: ``ImageFolderSource`` for a folder, glob or single image."""
    if options:
        raise InputError(f"{uri}: unknown option(s) {', '.join(sorted(options))} for an image "
                         "folder; expected fps, realtime")
    from lanecam.pipeline.sources.video_file import file_path

    return ImageFolderSource(uri, fps=fps, realtime=realtime, path=file_path(uri))
