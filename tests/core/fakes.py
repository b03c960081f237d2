"""Fake sources and stages for runner tests: no video, no model, controllable speed and faults."""

import time

import numpy as np

from lanecam.pipeline.core import FramePool, Runner, SourceStage, Stage, chain
from lanecam.pipeline.core.build import ring_links
from lanecam.pipeline.sources.base import Pacer, ReadStatus

H, W = 8, 8


class FakeSource:
    """``n`` frames (endless when None) whose first pixel is the frame id mod 256.

    live=True releases frames at ``fps`` like a camera (stamped with ``time.monotonic()``).
    """

    def __init__(self, n=50, live=False, fps=30.0, fail_at=None):
        self.n, self.is_live, self.fps, self.fail_at = n, live, fps, fail_at
        self.uri = "fake://"
        self.source_name = None
        self.i = 0
        self.closed = False
        self._pacer = Pacer(fps) if live else None

    def read(self, out=None, timeout=1.0):
        if self.fail_at is not None and self.i == self.fail_at:
            raise RuntimeError("injected source failure")
        if self.n is not None and self.i >= self.n:
            return ReadStatus.END, None, 0.0
        ts = self._pacer.wait() if self._pacer else self.i / self.fps
        out[0, 0, 0] = self.i % 256
        self.i += 1
        return ReadStatus.OK, out, ts

    def close(self):
        self.closed = True


class FakeStage(Stage):
    """Sleeps ``delay`` s per frame; raises at frame ``fail_at``; records what it saw."""

    def __init__(self, name, delay=0.0, fail_at=None):
        super().__init__(name)
        self.delay, self.fail_at = delay, fail_at
        self.seen = []
        self.torn_down = False

    def process(self, slot, meta):
        if self.fail_at is not None and meta.frame_id == self.fail_at:
            raise ValueError(f"injected failure in {self.name}")
        # the pooled frame really travels with its meta
        assert self.pool.frames[slot][0, 0, 0] == meta.frame_id % 256
        if self.delay:
            time.sleep(self.delay)
        self.seen.append(meta.frame_id)
        return True

    def teardown(self):
        self.torn_down = True


def build(source, delays=None, fail=None, live=None, capacity=2):
    """source -> pre -> infer -> post -> sink with per-stage delays/faults; returns the runner."""
    live = source.is_live if live is None else live
    names = ["preprocess", "infer", "postprocess", "sink"]
    delays = delays or {}
    fail = fail or {}
    src = SourceStage(source)
    if "source" in fail:
        source.fail_at = fail["source"]
    stages = [src] + [FakeStage(n, delays.get(n, 0.0), fail.get(n)) for n in names]
    # the production policy table (``ring_links``), so these tests check what runs
    links, record_link = ring_links(live, capacity)
    links = list(links) + [record_link]
    pool = FramePool(sum(c for c, _ in links) + len(stages) + 1, H, W)
    rings = chain(stages, links, pool)
    return Runner(stages, rings, pool, join_timeout=3.0)
