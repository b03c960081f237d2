"""The ``Sink`` contract (open / write / close) and the null sink."""

import numpy as np

from lanecam.pipeline.errors import LanecamError

__all__ = ["Sink", "NullSink", "frame_id_of"]


def frame_id_of(result, meta) -> int:
    """The frame id from the pipeline's ``FrameMeta`` or, without one, from the lane result."""
    if meta is not None and getattr(meta, "frame_id", None) is not None:
        return int(meta.frame_id)
    return int(result.frame_id) if result is not None else -1


class Sink:
    """Where processed frames go.

    Lifecycle: ``open(width, height, fps)`` once with the source's geometry, ``write`` per
    frame, ``close()`` (idempotent; must leave a complete output even after Ctrl-C).
    A sink that writes a file writes it under a temporary name (``self.partial``, a
    ``PartialFile``): ``close()`` renames it into place, ``close(keep=False)`` (a failed run)
    deletes it, so a half file never appears under the final name.
    ``write`` gets the pipeline's pooled frame buffer: a sink must not keep a reference to it
    after returning (copy or encode it first).

    Attributes:
        name: short name for logs and stats.
        frames_written: frames accepted by ``write``.
        stop_requested: set by interactive sinks (a window closed, ``q`` pressed) so the
            runner can end the run.
        is_display: True for sinks that show frames to a person (window, preview): the
            pipeline feeds them the newest frame only and never waits for them.
        wants_clean_frame: True for sinks that store the camera image beside the lanes as
            data (MCAP, Foxglove): when another output needs the overlay drawn, they are
            given the frame as it was before drawing (see ``needs_clean_frame``).
    """

    name = "sink"
    is_display = False
    wants_clean_frame = False

    def needs_clean_frame(self, meta) -> bool:
        """Whether this frame's pixels, without the overlay, will be read by ``write``.

        The postprocess stage copies the frame before drawing only when a sink says so: a
        sink that stores the recorded bytes instead (``meta.encoded``) can say no."""
        return self.wants_clean_frame

    def __init__(self):
        self.width = 0
        self.height = 0
        self.fps = 0.0
        self.frames_written = 0
        self.stop_requested = False
        self.partial = None  # PartialFile of a file-writing sink, set by its _open
        self._is_open = False

    def open(self, width: int, height: int, fps: float) -> None:
        """Prepare for frames of ``width`` x ``height`` at ``fps``."""
        self.width, self.height, self.fps = int(width), int(height), float(fps)
        self._open()
        self._is_open = True

    def write(self, frame: np.ndarray, result, meta) -> None:
        """Consume one BGR frame with its ``LaneResult`` and ``FrameMeta`` (either may be None).

        A file sink's write error (disk full, file too large) is one ``LanecamError`` naming
        the flag and the path the user gave, not the hidden temporary file."""
        try:
            self._write(frame, result, meta)
        except OSError as exc:
            if self.partial is None:
                raise
            raise self._as_user_error(exc) from None
        self.frames_written += 1

    def _as_user_error(self, exc: OSError) -> LanecamError:
        """``exc`` worded with a file sink's flag and final path."""
        return LanecamError(f"{self.partial.flag} {self.partial.final}: cannot write "
                            f"({exc.strerror or exc})")

    def close(self, keep: bool = True) -> None:
        """Finish the output; safe to call twice or after a failed ``open``.

        ``keep=False`` (the run failed, or never started): a file output is deleted instead of
        being renamed into place, and a previous file of that name stays as it was.
        """
        if not self._is_open:
            if self.partial is not None:
                self.partial.discard()  # _open failed after creating the file
            return
        self._is_open = False
        try:
            self._close()
        except OSError as exc:  # the last bytes did not fit either: worded like write's
            if self.partial is None:
                raise
            self.partial.discard()
            raise self._as_user_error(exc) from None
        except BaseException:
            if self.partial is not None:
                self.partial.discard()
            raise
        if self.partial is not None:
            if keep:
                self.partial.commit()
            else:
                self.partial.discard()

    def describe(self) -> str:
        """One line for the user: what this sink writes and how."""
        return self.name

    def _open(self) -> None:
        pass

    def _write(self, frame: np.ndarray, result, meta) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        pass


class NullSink(Sink):
    """Discards frames (benchmarks: measures the pipeline without output costs)."""

    name = "null"

    def _write(self, frame, result, meta) -> None:
        pass
