"""Image folders and globs (``frames/``, ``clips/**/*.jpg``) read in natural sort order."""

import glob
import logging
import os
import re
from typing import List, Optional

from lanecam.pipeline.constants import IMAGE_EXTENSIONS
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.sources.base import (Pacer, ReadResult, ReadStatus, Source, check_frame_size,
                                          copy_into)
from lanecam.pipeline.sources.capture import import_cv2
from lanecam.pipeline.sources.damage import SkipLog

__all__ = ["ImageFolderSource", "has_glob_magic"]

log = logging.getLogger("lanecam.sources")


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

    An image that cannot be read is skipped, not fatal: its index goes to ``skipped`` and its
    path to ``unreadable`` (``lanecam run`` names them at the end and exits 2), like a damaged
    video frame. An image whose size differs from the first readable one is resized to that
    size with ``INTER_AREA`` (the pipeline's buffers and preprocessing have one frame size),
    with one warning naming the first such file. ``source_name`` is the image path relative to the folder (or to the fixed
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
        self._pending = None
        self.skipped = SkipLog()
        self.unreadable: List[str] = []
        self.resized = 0

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
        """The image at ``index``, or None (counted as skipped) when it cannot be read."""
        path = self.files[index]
        image = self._cv2.imread(path, self._cv2.IMREAD_COLOR)
        if image is None:
            self.skipped.add(index)
            self.unreadable.append(path)
            log.warning("%s: not a readable image; skipped", path)
        return image

    def _open(self) -> None:
        self._cv2 = import_cv2("reading images")
        self._list()
        self._index = 0
        first = self._next_image()
        if first is None:
            raise InputError(f"{self.path}: none of the {len(self.files)} images is readable "
                             f"(first: {self.files[0]})")
        self.height, self.width = first.shape[:2]
        check_frame_size(self.files[self._index], self.width, self.height)
        self._pending = first  # the probe image is the first frame: not read twice
        self.frame_count = len(self.files)
        self._pacer = Pacer(self.fps) if self.realtime else None

    def _next_image(self):
        """The next readable image from ``_index`` on (``_index`` is left on it), or None."""
        while self._index < len(self.files):
            image = self._load(self._index)
            if image is not None:
                return image
            self._index += 1
        return None

    def _fit(self, image):
        """``image`` at the first image's size (INTER_AREA: the right filter to shrink)."""
        if image.shape[:2] == (self.height, self.width):
            return image
        if not self.resized:
            log.warning("%s: is %dx%d, resized to %dx%d like the first image (said once)",
                        self.files[self._index], image.shape[1], image.shape[0],
                        self.width, self.height)
        self.resized += 1
        return self._cv2.resize(image, (self.width, self.height),
                                interpolation=self._cv2.INTER_AREA)

    def _read(self, out, timeout: float) -> ReadResult:
        image, self._pending = self._pending, None
        if image is None:
            image = self._next_image()
        if image is None:
            return ReadStatus.END, None, 0.0
        image = self._fit(image)
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
