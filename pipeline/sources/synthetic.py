"""``synthetic://`` : a generated drive from the road renderer, as a file-like or live source."""

from typing import Optional

from lanecam.pipeline.errors import InputError, LanecamError
from lanecam.pipeline.sources.base import (Pacer, ReadResult, ReadStatus, Source, check_frame_size,
                                          fits)
from lanecam.pipeline.sources.uri import parse_options

__all__ = ["SyntheticSource"]

SYNTHETIC_OPTIONS = {
    "width": (int, 1280), "height": (int, 720), "fps": (float, 25.0),
    "seed": (int, 0), "frames": (int, 0), "live": (bool, False), "realtime": (bool, False),
}


class SyntheticSource(Source):
    """Frames of ``lanecam.pipeline.roadsim.RoadRenderer``: a temporally coherent drive.

    Args:
        uri: as given (``synthetic://?width=640&height=360&fps=30&seed=1&frames=300&live=1``).
        width, height, fps, seed: passed to the renderer.
        frames: end the stream after this many frames (0 = endless).
        live: release frames at ``fps`` like a camera (``ts`` = ``time.monotonic()``) and
            report ``is_live``; otherwise as fast as they are read (``ts`` = index / fps).

    ``truth`` is the ``GroundTruth`` of the last frame read (for tests and evaluation).
    """

    def __init__(self, uri: str, width: int = 1280, height: int = 720, fps: float = 25.0,
                 seed: int = 0, frames: int = 0, live: bool = False):
        super().__init__(uri)
        if width < 16 or height < 16:
            raise InputError(f"{uri}: width and height must be >= 16, got {width}x{height}")
        check_frame_size(uri, width, height)  # refused before the renderer allocates
        if not fps > 0:
            raise InputError(f"{uri}: fps must be > 0, got {fps}")
        if frames < 0:
            raise InputError(f"{uri}: frames must be >= 0 (0 = endless), got {frames}")
        self.width, self.height, self.fps, self.seed = width, height, float(fps), seed
        self.frame_count = frames or None
        self.is_live = bool(live)
        self.truth = None
        self._renderer = None
        self._index = 0
        self._pacer: Optional[Pacer] = None

    def _open(self) -> None:
        try:
            from lanecam.pipeline.roadsim import RoadRenderer
        except ImportError as exc:
            raise LanecamError(f"{self.uri}: the road renderer (pipeline.roadsim) is not "
                               f"available: {exc}") from None
        self._renderer = RoadRenderer(width=self.width, height=self.height, seed=self.seed,
                                      fps=self.fps)
        self._index = 0
        self._pacer = Pacer(self.fps) if self.is_live else None

    def _read(self, out, timeout: float) -> ReadResult:
        if self.frame_count is not None and self._index >= self.frame_count:
            return ReadStatus.END, None, 0.0
        if fits(out, self.height, self.width):
            frame, self.truth = self._renderer.next(out=out)
        else:
            frame, self.truth = self._renderer.next()
        if self._pacer is not None:
            ts = self._pacer.wait()
        else:
            ts = self._index / self.fps
        self._index += 1
        return ReadStatus.OK, frame, ts

    def _close(self) -> None:
        self._renderer = None


def open_synthetic(uri: str, **options) -> SyntheticSource:
    """Registry factory for ``synthetic://?width=&height=&fps=&seed=&frames=&live=``.

    ``realtime=True`` (the ``--realtime`` flag) means the same as ``live=1`` here.
    """
    _, _, query = uri.partition("?")
    v = parse_options(uri, query, options, SYNTHETIC_OPTIONS)
    live = v.pop("live") or v.pop("realtime")
    v.pop("realtime", None)
    return SyntheticSource(uri, live=live, **v)
