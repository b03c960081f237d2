"""The benchmark as a PNG: per configuration, a latency histogram per stage and a timeline.

One row per configuration, three panels:

1. histogram of each pipelined stage's time per frame (log-spaced bins), and end to end;
2. timeline of a window of frames after the warm-up: one bar per frame from capture to sink,
   cut where each stage finished it, so overlapping bars show frames in flight at once;
3. end-to-end latency of every frame, pipelined and sequential, against the frame index.

matplotlib is an optional extra (``pip install "lanecam[plot]"``), imported only here, with
the Agg backend (no display needed).
"""

from pathlib import Path

import numpy as np

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.lazy import require

__all__ = ["write_plot", "STAGE_COLORS"]

STAGE_COLORS = {"source": "#8c8c8c", "preprocess": "#1f77b4", "infer": "#d62728",
                "postprocess": "#2ca02c", "sink": "#9467bd", "end_to_end": "#000000"}
_ORDER = ("source", "preprocess", "infer", "postprocess", "sink")


def _histogram(ax, samples: dict, e2e_ms: np.ndarray) -> None:
    values = [v * 1e3 for v in samples.values() if len(v)] + ([e2e_ms] if len(e2e_ms) else [])
    if not values:
        ax.text(0.5, 0.5, "no samples", ha="center", transform=ax.transAxes)
        return
    lo = max(min(float(v.min()) for v in values), 1e-3)
    hi = max(float(v.max()) for v in values)
    bins = np.geomspace(lo, max(hi, lo * 1.01), 40)
    for name in _ORDER:
        if name in samples and len(samples[name]):
            ax.hist(samples[name] * 1e3, bins=bins, histtype="step", lw=1.5,
                    color=STAGE_COLORS[name], label=name)
    if len(e2e_ms):
        ax.hist(e2e_ms, bins=bins, histtype="step", lw=2, ls="--",
                color=STAGE_COLORS["end_to_end"], label="end to end")
    ax.set_xscale("log")
    ax.set_xlabel("ms per frame")
    ax.set_ylabel("frames")
    ax.legend(fontsize=7)


def _timeline(ax, timeline, first: int, count: int) -> None:
    end = min(timeline.n, first + count)
    if end <= first:
        ax.text(0.5, 0.5, "no frames", ha="center", transform=ax.transAxes)
        return
    t0 = timeline.capture[first]
    for i in range(first, end):
        row, start = timeline.frame_id[i], timeline.capture[i]
        for name in _ORDER:
            stop = timeline.done[name][i]
            if np.isnan(stop):
                continue
            if stop > start:
                ax.barh(row, (stop - start) * 1e3, left=(start - t0) * 1e3, height=0.8,
                        color=STAGE_COLORS[name], label=name if i == first else None)
                start = stop
    ax.invert_yaxis()
    ax.set_xlabel("ms (from the capture of the first frame shown)")
    ax.set_ylabel("frame id")
    ax.legend(fontsize=7, loc="lower right")


def write_plot(report, path, window: int = 30) -> Path:
    """Write the PNG for a ``BenchReport``; returns the path.

    Raises:
        MissingDependencyError: matplotlib is not installed (names ``lanecam[plot]``).
        InputError: the output folder does not exist.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"{path}: output folder {path.parent} does not exist")
    mpl = require("matplotlib", "plot", "the benchmark plot (--plot)")
    mpl.use("Agg")
    plt = require("matplotlib.pyplot", "plot", "the benchmark plot (--plot)")
    rows = [(r, pair) for r, pair in zip(report.results, report.runs) if pair is not None]
    if not rows:
        raise InputError(f"{path}: nothing to plot (every configuration failed)")
    fig, axes = plt.subplots(len(rows), 3, figsize=(18, 4.6 * len(rows)), squeeze=False)
    for (result, (seq, pipe)), ax in zip(rows, axes):
        label = result["config"]["label"]
        pipe_e2e = _e2e_ms(pipe.timeline)
        _histogram(ax[0], pipe.stage_samples, pipe_e2e[pipe.report["warmup_frames"]:])
        ax[0].set_title(f"{label}: pipelined time per frame, per stage")
        first = pipe.report["warmup_frames"]
        _timeline(ax[1], pipe.timeline, first, window)
        ax[1].set_title(f"pipelined timeline, {pipe.report['fps'] or 0:.1f} fps (a segment ends "
                        "when its stage finished the frame; queue waits included)", fontsize=9)
        ax[2].plot(pipe_e2e, lw=1, color="#d62728",
                   label=f"pipelined ({pipe.report['fps'] or 0:.1f} fps)")
        ax[2].plot(_e2e_ms(seq.timeline), lw=1, color="#1f77b4",
                   label=f"sequential ({seq.report['fps'] or 0:.1f} fps)")
        ax[2].axvline(first, color="#8c8c8c", ls=":", lw=1)
        ax[2].set_xlabel("frame")
        ax[2].set_ylabel("capture to sink, ms")
        ax[2].set_title("end-to-end latency per frame (dotted: end of warm-up)")
        ax[2].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _e2e_ms(timeline) -> np.ndarray:
    if timeline is None or timeline.n == 0:
        return np.zeros(0)
    return (timeline.finished() - timeline.capture[:timeline.n]) * 1e3
