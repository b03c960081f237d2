"""Preallocated frame slots and the small metadata record that travels with each frame.

Frames never travel through the rings themselves: a ring carries ``(slot, FrameMeta)`` and every
stage works on that slot's ``FrameSlot`` (the decoded frame, the model input tensor, the engine
outputs, the lane result). A slot is taken by the source stage and returned by its last
consumer; with several consumers (a recording sink and a display sink) ``share`` raises the
reference count and each consumer ``release``s once.
"""

import threading
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from lanecam.pipeline.errors import InputError

__all__ = ["FrameMeta", "FrameSlot", "FramePool"]


@dataclass
class FrameMeta:
    """What the pipeline knows about one frame besides its pixels.

    Attributes:
        frame_id: index of the frame in the source (0, 1, 2 ...; gaps mean drops upstream).
        capture_ts: ``time.monotonic()`` when the source stage got the frame.
        source_ts: the source's own timestamp (stream position for files, capture time live).
        stage_ts: stage name -> ``time.monotonic()`` when that stage finished the frame.
        source_name: the image file name for folder sources (TuSimple ``raw_file``), else None.
        stamp_ns: the recorded time in integer nanoseconds for MCAP and bag sources (exact,
            where ``source_ts`` is a float), else None.
        encoded: ``(format, bytes)`` of the frame as recorded when it was a JPEG or PNG
            message (an MCAP sink stores it without encoding again), else None.
        crop_top: the horizon crop the preprocess stage used for this frame (it can change
            between frames under ``--crop-top auto``; postprocess maps the lanes back with
            the same), else None.
    """

    frame_id: int = -1
    capture_ts: float = 0.0
    source_ts: float = 0.0
    stage_ts: Dict[str, float] = field(default_factory=dict)
    source_name: Optional[str] = None
    stamp_ns: Optional[int] = None
    encoded: Optional[Tuple[str, bytes]] = None
    crop_top: Optional[float] = None

    def reset(self, frame_id: int, capture_ts: float, source_ts: float,
              source_name: Optional[str] = None, stamp_ns: Optional[int] = None,
              encoded: Optional[Tuple[str, bytes]] = None) -> "FrameMeta":
        """Reuse this record for a new frame (the pool keeps one per slot)."""
        self.frame_id = frame_id
        self.capture_ts = capture_ts
        self.source_ts = source_ts
        self.source_name = source_name
        self.stamp_ns = stamp_ns
        self.encoded = encoded
        self.crop_top = None
        self.stage_ts.clear()
        return self


class FrameSlot:
    """The buffers of one pooled frame, handed from stage to stage by index.

    Attributes:
        index: the slot's index in the pool.
        frame: BGR uint8 (H, W, 3) view into the pool; the source decodes into it and the
            overlay draws on it.
        tensor: the model input for this frame (a view into the pool), or None.
        outputs: copies of the engine outputs by name (allocated on first use of the slot,
            because the engine reuses its own buffers while the next frame is inferred).
        result: the ``LaneResult`` of the frame, or None before postprocessing.
        meta: the frame's ``FrameMeta``.
        clean: a copy of ``frame`` taken before the overlay was drawn on it, for sinks that
            store the camera image and draw the lanes their own way (MCAP, Foxglove), or None;
            valid only while ``has_clean`` is True (set per frame by the postprocess stage).
    """

    __slots__ = ("index", "frame", "tensor", "outputs", "result", "meta", "clean", "has_clean")

    def __init__(self, index: int, frame: np.ndarray, tensor: Optional[np.ndarray],
                 meta: "FrameMeta"):
        self.index = index
        self.frame = frame
        self.tensor = tensor
        self.outputs: Optional[Dict[str, np.ndarray]] = None
        self.result = None
        self.meta = meta
        self.clean: Optional[np.ndarray] = None  # made on first use, reused
        self.has_clean = False

    def keep_clean(self) -> np.ndarray:
        """Copy the frame as it is now into ``clean`` (allocated once) and mark it valid."""
        if self.clean is None or self.clean.shape != self.frame.shape:
            self.clean = np.empty_like(self.frame)
        np.copyto(self.clean, self.frame)
        self.has_clean = True
        return self.clean

    def keep_outputs(self, outputs: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Copy ``outputs`` into this slot's own arrays (made once, reused); returns them."""
        kept = self.outputs
        if kept is None or kept.keys() != outputs.keys() or any(
                kept[k].shape != v.shape or kept[k].dtype != v.dtype for k, v in outputs.items()):
            kept = self.outputs = {k: np.empty_like(v) for k, v in outputs.items()}
        for k, v in outputs.items():
            np.copyto(kept[k], v)
        return kept


class FramePool:
    """A fixed number of frame slots, allocated once.

    Args:
        size: number of slots; must cover every frame that can be in flight at once (ring
            capacities plus one per stage), or the source waits for a free slot.
        height, width: frame size (BGR uint8 buffers).
        tensor_shape, tensor_dtype: shape/dtype of one model input tensor per slot (the
            preprocess stage writes slot ``i``'s tensor while the infer stage reads another's),
            or None for no tensors.

    Attributes:
        frames: uint8 array (size, height, width, 3); ``frames[i]`` is slot i's frame.
        tensors: array (size, *tensor_shape) or None.
        metas: one ``FrameMeta`` per slot, reset by the source stage for each new frame.
        slots: one ``FrameSlot`` per slot (views of the buffers above, plus the engine output
            copies and the lane result); kept across reuse of the slot.

    Thread-safe: ``acquire``/``share``/``release`` may be called from any stage.
    """

    def __init__(self, size: int, height: int, width: int,
                 tensor_shape: Optional[Sequence[int]] = None, tensor_dtype="float32"):
        if not isinstance(size, int) or size < 1:
            raise InputError(f"frame pool: size must be a positive integer, got {size!r}")
        if height < 1 or width < 1:
            raise InputError(f"frame pool: frame size must be positive, got {width}x{height}")
        self.size = size
        self.height, self.width = int(height), int(width)
        self.frames = np.zeros((size, self.height, self.width, 3), np.uint8)
        self.tensors = (np.zeros((size,) + tuple(tensor_shape), np.dtype(tensor_dtype))
                        if tensor_shape is not None else None)
        self.metas: List[FrameMeta] = [FrameMeta() for _ in range(size)]
        self.slots: List[FrameSlot] = [
            FrameSlot(i, self.frames[i], None if self.tensors is None else self.tensors[i],
                      self.metas[i]) for i in range(size)]
        self._refs = [0] * size
        # LIFO free list: the most recently released slot is still warm in the CPU caches
        self._free = list(range(size - 1, -1, -1))
        self._cond = threading.Condition()
        self._closed = False

    @property
    def free_count(self) -> int:
        """Slots not in use right now."""
        with self._cond:
            return len(self._free)

    def acquire(self, timeout: float) -> Optional[int]:
        """A free slot index (reference count 1), or None after ``timeout`` s or when closed."""
        with self._cond:
            if not self._free and not self._closed:
                self._cond.wait_for(lambda: self._free or self._closed, timeout)
            if self._closed or not self._free:
                return None
            slot = self._free.pop()
            self._refs[slot] = 1
            return slot

    def share(self, slot: int, extra: int = 1) -> None:
        """Add ``extra`` consumers to ``slot``; each of them must ``release`` it once."""
        with self._cond:
            if self._refs[slot] <= 0:
                raise RuntimeError(f"frame pool: share() of free slot {slot}")
            self._refs[slot] += extra

    def release(self, slot: int) -> None:
        """One consumer is done with ``slot``; the last one returns it to the pool."""
        with self._cond:
            if self._refs[slot] <= 0:
                raise RuntimeError(f"frame pool: slot {slot} released more often than taken")
            self._refs[slot] -= 1
            if self._refs[slot] == 0:
                self._free.append(slot)
                self._cond.notify()

    def close(self) -> None:
        """Wake every ``acquire`` waiter; later acquires return None."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
