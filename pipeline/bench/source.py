"""The benchmark's input: the same frames for every run, fresh source objects for each.

``BenchInput`` opens the user's SOURCE once to learn its size and fps, and hands out a new
source per run (``make()``), limited to the run's frame count. With ``preload=K`` the first K
frames are read into memory once and every run replays them (cycling when it needs more):
the source stage then costs a copy, which is what a camera delivering frames into memory
costs. That is the default for ``synthetic://``, whose road renderer (tens of ms a frame)
would otherwise be what the benchmark measures; a video file is decoded in every run by
default, because decoding is part of what processing a recorded drive costs.
"""

import time
from typing import List, Optional

import numpy as np

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.sources.base import Pacer, ReadStatus, Source

__all__ = ["BenchInput", "ReplaySource", "LimitedSource", "DEFAULT_SOURCE", "DEFAULT_FRAMES"]

DEFAULT_SOURCE = "synthetic://?width=1280&height=720&fps=25&seed=0"
DEFAULT_FRAMES = 300          # per run, for endless sources
DEFAULT_SYNTHETIC_PRELOAD = 32


class ReplaySource(Source):
    """Frames from memory, in order, cycling, ``count`` of them (None: endless).

    ``read(out=...)`` copies into the caller's buffer (as a decoder writing into a pooled
    frame would). File-like by default (timestamps ``index / fps``, lossless); ``live=True``
    releases frames at ``fps`` like a camera (timestamps ``time.monotonic()``).
    """

    def __init__(self, uri: str, frames: List[np.ndarray], fps: float, count: Optional[int],
                 live: bool = False):
        super().__init__(uri)
        if not frames:
            raise InputError(f"{uri}: no frames to replay")
        self._frames = frames
        self.height, self.width = frames[0].shape[:2]
        self.fps = fps
        self.frame_count = count
        self.is_live = bool(live)
        self._pacer: Optional[Pacer] = None
        self._i = 0

    def _open(self) -> None:
        self._i = 0
        self._pacer = Pacer(self.fps) if self.is_live else None

    def _read(self, out, timeout: float):
        if self.frame_count is not None and self._i >= self.frame_count:
            return ReadStatus.END, None, 0.0
        frame = self._frames[self._i % len(self._frames)]
        if out is not None and out.shape == frame.shape:
            np.copyto(out, frame)
            frame = out
        ts = self._pacer.wait() if self._pacer is not None else self._i / self.fps
        self._i += 1
        return ReadStatus.OK, frame, ts


class LimitedSource:
    """Wraps an opened source and ends the stream after ``count`` frames (None: never)."""

    def __init__(self, source, count: Optional[int]):
        self.source, self.count, self.read_frames = source, count, 0

    def __getattr__(self, name):
        return getattr(self.source, name)

    @property
    def frame_count(self):
        inner = self.source.frame_count
        if self.count is None:
            return inner
        return min(inner, self.count) if inner else self.count

    def read(self, out=None, timeout: float = 1.0):
        if self.count is not None and self.read_frames >= self.count:
            return ReadStatus.END, None, 0.0
        status, frame, ts = self.source.read(out=out, timeout=timeout)
        if status is ReadStatus.OK:
            self.read_frames += 1
        return status, frame, ts

    def close(self) -> None:
        self.source.close()


class BenchInput:
    """The benchmark's SOURCE, opened once.

    Args:
        uri: anything ``open_source`` takes.
        frames: frames per run; None for the whole source (refused for an endless one,
            which gets ``DEFAULT_FRAMES``).
        preload: frames to keep in memory and replay (0: read the source in every run;
            None: ``DEFAULT_SYNTHETIC_PRELOAD`` for ``synthetic://``, 0 otherwise).
        live: release the frames at the source's fps, like a camera (a file is read with
            ``realtime``): the pipeline then runs with its live ring policies (drops instead
            of back-pressure), and latency is that of a live stream, not of a file whose
            frames wait in the rings.
        options: more keywords for ``open_source`` (the stream timeouts).

    Attributes:
        width, height, fps, is_live, frames_per_run, preloaded (frames in memory),
        preload_s (seconds spent reading them), description (for the report).
    """

    def __init__(self, uri: str, frames: Optional[int] = None, preload: Optional[int] = None,
                 live: bool = False, options: Optional[dict] = None):
        from lanecam.pipeline.sources import open_source

        self.uri = uri
        self.options = dict(options or {})
        self.live_requested = bool(live)
        if preload is None:
            preload = DEFAULT_SYNTHETIC_PRELOAD if uri.startswith("synthetic://") else 0
        if preload < 0:
            raise InputError(f"--preload: expected a frame count >= 0, got {preload}")
        probe = open_source(uri, **self.options)
        probe.open()
        try:
            self.width, self.height = probe.width, probe.height
            self.fps = probe.fps if probe.fps and probe.fps > 0 else 25.0
            if probe.is_live and preload:
                raise InputError(f"{uri}: a live source cannot be preloaded (--preload 0)")
            self.is_live = bool(probe.is_live) or self.live_requested
            known = probe.frame_count
            if frames is None:
                frames = known if known else DEFAULT_FRAMES
            if frames < 1:
                raise InputError(f"--frames: expected at least 1, got {frames}")
            self.frames_per_run = int(frames)
            self.source_frames = known
            self.preloaded: List[np.ndarray] = []
            self.preload_s = 0.0
            if preload:
                self._preload(probe, min(preload, self.frames_per_run))
        finally:
            probe.close()

    def _preload(self, source, count: int) -> None:
        t0 = time.monotonic()
        while len(self.preloaded) < count:
            status, frame, _ = source.read(out=np.empty((self.height, self.width, 3), np.uint8))
            if status is not ReadStatus.OK:
                break
            self.preloaded.append(frame)
        self.preload_s = time.monotonic() - t0
        if not self.preloaded:
            raise InputError(f"{self.uri}: no frames could be read")

    def make(self, count: Optional[int] = None):
        """A fresh, opened source for one run of ``count`` frames (default frames_per_run)."""
        from lanecam.pipeline.sources import open_source

        count = self.frames_per_run if count is None else count
        if self.preloaded:
            src = ReplaySource(self.uri, self.preloaded, self.fps, count, live=self.is_live)
            src.open()
            return src
        src = open_source(self.uri, realtime=True if self.live_requested else None,
                          **self.options)
        src.open()
        return LimitedSource(src, count)

    def first_frame(self) -> np.ndarray:
        """A real frame of the source (for the model-only input)."""
        if self.preloaded:
            return self.preloaded[0]
        src = self.make(1)
        try:
            status, frame, _ = src.read(out=np.empty((self.height, self.width, 3), np.uint8))
        finally:
            src.close()
        if status is not ReadStatus.OK:
            raise InputError(f"{self.uri}: no frame could be read")
        return frame

    def describe(self) -> dict:
        """The input as the report states it."""
        out = {"uri": self.uri, "width": self.width, "height": self.height, "fps": self.fps,
               "live": self.is_live, "frames_per_run": self.frames_per_run,
               "source_frames": self.source_frames}
        if self.is_live:
            out["live_note"] = (f"frames arrive at {self.fps:g} fps like a camera: the pipeline "
                                "drops frames it cannot take instead of falling behind")
        if self.preloaded:
            out["preloaded_frames"] = len(self.preloaded)
            out["note"] = (f"{len(self.preloaded)} frames read once into memory and replayed: "
                           "reading or rendering the source is not part of the numbers")
        else:
            out["note"] = "read (decoded) in every run: decoding is part of the numbers"
        return out
