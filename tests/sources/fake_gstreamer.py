"""A stand-in for OpenCV's GStreamer capture (the pip OpenCV is built without GStreamer)."""

import cv2
import numpy as np

__all__ = ["FakeGstCapture", "use_fake_gstreamer"]


class FakeGstCapture:
    """OpenCV's GStreamer capture of a pipeline that delivers ``frames`` frames, then nothing
    (end of stream, or an unplugged camera: OpenCV's read returns False either way)."""

    def __init__(self, frames, width=160, height=96):
        self.frames, self.width, self.height = frames, width, height
        self.delivered = 0

    def isOpened(self):
        return True

    def get(self, prop):
        return {cv2.CAP_PROP_FRAME_WIDTH: self.width, cv2.CAP_PROP_FRAME_HEIGHT: self.height,
                cv2.CAP_PROP_FPS: 30.0}.get(prop, 0.0)

    def read(self, out=None):
        if self.delivered >= self.frames:
            return False, None
        x = np.arange(self.width)
        row = (((x + 3 * self.delivered) // 8) % 2 * 200).astype(np.uint8)
        frame = np.repeat(np.repeat(row[None, :, None], self.height, 0), 3, 2)
        self.delivered += 1
        if out is not None:
            out[...] = frame
            return True, out
        return True, frame

    def release(self):
        pass


def use_fake_gstreamer(monkeypatch, frames: int):
    """Make every GStreamer pipeline opened from now on read a ``FakeGstCapture`` of
    ``frames`` frames; returns the list of captures made."""
    from lanecam.pipeline.sources.camera import GStreamerSource

    made = []

    def make(self, cv2_module):
        made.append(FakeGstCapture(frames))
        return made[-1]

    monkeypatch.setattr(GStreamerSource, "_make_capture", make)
    return made
