"""What ``lanecam batch`` tells the user: progress bars while it runs, the per-video summary
table (``OUT/summary.csv`` and ``OUT/summary.parquet``) and the closing lines."""

import csv
import io
import sys
from typing import Dict, List, Optional, Tuple

from lanecam.pipeline.outputs import PartialFile, write_atomic

__all__ = ["SUMMARY_COLUMNS", "Progress", "write_summary", "totals_line", "problem_lines"]

# column -> Arrow type name; the summary has these columns in this order
SUMMARY_COLUMNS = (
    ("video_id", "string"), ("path", "string"), ("status", "string"), ("error", "string"),
    ("frames", "int64"), ("duration_s", "float64"), ("processing_fps", "float64"),
    ("ego_share", "float64"), ("departure_events", "int64"), ("video_fps", "float64"),
    ("width", "int64"), ("height", "int64"), ("engine", "string"), ("worker", "string"),
    ("attempts", "int64"), ("elapsed_s", "float64"), ("lanes_file", "string"),
)


class Progress:
    """Two tqdm bars on stderr: videos finished, and frames processed (with the rate).

    Args:
        videos: videos to process in this run.
        enabled: False for ``--quiet``.
    """

    def __init__(self, videos: int, enabled: bool = True):
        self.videos = self.frames = None
        if enabled:
            from tqdm import tqdm

            self.videos = tqdm(total=videos, unit="video", desc="videos", position=0,
                               file=sys.stderr, dynamic_ncols=True, leave=True)
            self.frames = tqdm(unit="frame", desc="frames", position=1, file=sys.stderr,
                               dynamic_ncols=True, leave=True)

    def update(self, videos_done: int, frames_done: int) -> None:
        """Move both bars to these totals (frames may go back when a video is retried)."""
        if self.videos is None:
            return
        if videos_done != self.videos.n:
            self.videos.update(videos_done - self.videos.n)
        if frames_done != self.frames.n:
            self.frames.n = frames_done
            self.frames.refresh()

    def close(self) -> None:
        """Leave the bars on the terminal at their final state."""
        for bar in (self.frames, self.videos):
            if bar is not None:
                bar.close()


def _cell(value) -> str:
    return "" if value is None else str(value)


def write_summary(folder, rows: List[Dict[str, object]]) -> None:
    """``summary.csv`` and ``summary.parquet`` in ``folder``, one row per video, each written
    under a temporary name and renamed into place."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow([name for name, _ in SUMMARY_COLUMNS])
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name, _ in SUMMARY_COLUMNS])
    write_atomic(f"{folder}/summary.csv", text.getvalue(), "summary")

    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(name, getattr(pa, kind)()) for name, kind in SUMMARY_COLUMNS])
    table = pa.Table.from_pylist([{name: row.get(name) for name, _ in SUMMARY_COLUMNS}
                                  for row in rows], schema=schema)
    target = PartialFile(f"{folder}/summary.parquet", "summary")
    try:
        pq.write_table(table, str(target.path))
    except BaseException:
        target.discard()
        raise
    target.commit()


def problem_lines(rows: List[Dict[str, object]]) -> List[str]:
    """One line per video that failed or is damaged: status and reason (naming the input)."""
    lines = []
    for row in rows:
        if row.get("status") in ("failed", "damaged"):
            error = str(row.get("error") or "")
            path = str(row.get("path") or row.get("video_id"))
            status = row["status"]
            if row.get("before"):
                status += " (recorded by an earlier run, not redone; --force redoes it)"
            lines.append(f"{status}: " + (error if error.startswith(path)
                                          else f"{path}: {error}"))
    return lines


def totals_line(rows: List[Dict[str, object]], processing_s: float, wall_s: float,
                ray_s: Optional[Tuple[float, float]], out: str) -> str:
    """The closing line: counts by status, frames, aggregate fps, wall time, and the seconds
    Ray took to start and to stop (``ray_s``; None when it was not needed)."""
    counts: Dict[str, int] = {}
    videos = [r for r in rows if r.get("video_id")]
    for row in videos:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    named_nothing = len(rows) - len(videos)  # INPUTs that named no video (a missing path)
    frames = sum(int(r.get("frames") or 0) for r in rows
                 if r["status"] in ("done", "damaged") and not r.get("before"))
    order = ("done", "skipped", "damaged", "failed", "interrupted", "not started")
    status = ", ".join(f"{counts[s]} {s}" for s in order if counts.get(s)) or "nothing to do"
    fps = f" ({frames / processing_s:.1f} fps aggregate)" if processing_s > 0 and frames else ""
    ray = (f", Ray start-up {ray_s[0]:.1f} s, shut-down {ray_s[1]:.1f} s" if ray_s is not None
           else ", Ray not needed")
    bad = f", {named_nothing} bad INPUT{'s' * (named_nothing > 1)}" if named_nothing else ""
    noun = "video" if len(videos) == 1 else "videos"
    return (f"{len(videos)} {noun}: {status}{bad}; {frames} frames processed in "
            f"{processing_s:.1f} s{fps}; wall {wall_s:.1f} s{ray}; summary {out}/summary.csv")
