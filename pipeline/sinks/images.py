"""One image file per frame in a folder."""

import os

from lanecam.pipeline.errors import InputError, LanecamError
from lanecam.pipeline.sinks.base import Sink, frame_id_of

__all__ = ["ImageFolderSink"]


class ImageFolderSink(Sink):
    """Writes each frame as ``<folder>/<frame_id:06d>.<ext>``.

    Args:
        folder: created (with parents) on open; must not be a file.
        ext: ``jpg`` (default), ``png``, ``bmp``...
        quality: JPEG quality 1..100.
    """

    name = "images"

    def __init__(self, folder, ext: str = "jpg", quality: int = 95):
        super().__init__()
        self.folder = str(folder)
        self.ext = ext.lstrip(".").lower()
        if not 1 <= quality <= 100:
            raise InputError(f"{folder}: JPEG quality must be 1..100, got {quality}")
        self.quality = quality
        self._cv2 = None
        self._params = []

    def _open(self) -> None:
        import cv2

        if os.path.exists(self.folder) and not os.path.isdir(self.folder):
            raise InputError(f"{self.folder}: exists and is not a folder "
                             "(expected an output folder)")
        try:
            os.makedirs(self.folder, exist_ok=True)
        except OSError as exc:
            raise InputError(f"{self.folder}: cannot create the output folder: {exc}") from None
        if not cv2.haveImageWriter(f"x.{self.ext}"):
            raise InputError(f"{self.folder}: OpenCV cannot write .{self.ext} images")
        if self.ext in ("jpg", "jpeg"):
            self._params = [cv2.IMWRITE_JPEG_QUALITY, self.quality]
        self._cv2 = cv2

    def path_for(self, frame_id: int) -> str:
        """The file written for ``frame_id``."""
        return os.path.join(self.folder, f"{frame_id:06d}.{self.ext}")

    def _write(self, frame, result, meta) -> None:
        path = self.path_for(frame_id_of(result, meta))
        # written under a hidden name and renamed: a reader never sees half an image
        tmp = os.path.join(self.folder, f".partial-{os.getpid()}.{self.ext}")
        if not self._cv2.imwrite(tmp, frame, self._params):
            raise LanecamError(f"{path}: could not write the image (disk full or no permission?)")
        os.replace(tmp, path)

    def describe(self) -> str:
        return f"images {os.path.join(self.folder, 'NNNNNN.' + self.ext)}"
