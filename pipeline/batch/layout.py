"""Where ``lanecam batch`` writes, and how a video's files reach their final names.

::

    OUT/lanes/<video_id>.parquet     per-frame lanes, one file per video (the dataset)
    OUT/videos/<video_id>.mp4        annotated video (--videos)
    OUT/jsonl/<video_id>.jsonl       native JSON lines (--jsonl)
    OUT/mcap/<video_id>.mcap         frames, lane annotations, results for Foxglove (--mcap)
    OUT/summary.csv, summary.parquet one row per video of the last run
    OUT/_ledger.jsonl                what is done (see ``ledger``)

A video's files are written in ``OUT/.staging/<kind>/`` (the sinks add their own hidden
``.partial`` name while writing) and renamed to their final names only when the whole video
succeeded, the Parquet file last. A worker killed half way leaves files in ``.staging`` only,
which the next attempt at that video deletes. They are kept out of ``OUT/lanes`` itself
because readers glob it: DuckDB's ``'OUT/lanes/*.parquet'`` matches hidden files too (pyarrow
skips names starting with ``.``, DuckDB does not).
"""

import glob
import os
from pathlib import Path
from typing import Dict, List

__all__ = ["Layout", "KINDS", "STAGING"]

STAGING = ".staging"

# output kind -> (folder, extension); the Parquet file goes last: its final name means "done"
KINDS = {"videos": ("videos", ".mp4"), "jsonl": ("jsonl", ".jsonl"), "mcap": ("mcap", ".mcap"),
         "lanes": ("lanes", ".parquet")}


class Layout:
    """The output folder of a batch job.

    Args:
        root: the ``--out`` folder.
    """

    def __init__(self, root):
        self.root = Path(root)

    def final(self, kind: str, video_id: str) -> Path:
        """Final path of a video's output of ``kind`` ("lanes", "videos", "jsonl", "mcap")."""
        folder, ext = KINDS[kind]
        return self.root / folder / f"{video_id}{ext}"

    def staging(self, kind: str, video_id: str) -> Path:
        """Where the output is written until the video is complete (outside the folders
        that readers glob)."""
        folder, ext = KINDS[kind]
        return self.root / STAGING / folder / f"{video_id}.staging-{os.getpid()}{ext}"

    def relative(self, path: Path) -> str:
        """``path`` relative to the output folder (what the ledger stores)."""
        return str(Path(path).relative_to(self.root))

    def make_folders(self, kinds) -> None:
        """Create the folders of ``kinds`` and their staging folders (the output folder
        itself must exist)."""
        for kind in kinds:
            (self.root / KINDS[kind][0]).mkdir(exist_ok=True)
            (self.root / STAGING / KINDS[kind][0]).mkdir(parents=True, exist_ok=True)

    def remove_empty_staging(self) -> None:
        """Remove the staging folders once nothing is left in them (another job writing
        into the same output folder keeps them)."""
        for folder, _ in KINDS.values():
            for path in (self.root / STAGING / folder, self.root / STAGING):
                try:
                    path.rmdir()
                except OSError:
                    pass  # missing, or not empty

    def leftovers(self, video_id: str) -> List[Path]:
        """Files of earlier attempts at this video (a killed worker's)."""
        found = []
        for folder, _ in KINDS.values():
            # "ID.staging-PID.EXT", and ".ID.staging-PID.partial-PID.EXT" that a sink
            # writes while the staging file is not complete (``PartialFile``)
            for prefix in ("", "."):
                pattern = os.path.join(glob.escape(str(self.root / STAGING / folder)),
                                       f"{prefix}{glob.escape(video_id)}.*")
                found += [Path(p) for p in glob.glob(pattern)]
        return found

    def remove_leftovers(self, video_id: str) -> int:
        """Delete them; returns how many there were."""
        count = 0
        for path in self.leftovers(video_id):
            try:
                path.unlink()
                count += 1
            except FileNotFoundError:
                pass
        return count

    def commit(self, staged: Dict[str, Path], video_id: str) -> Dict[str, str]:
        """Rename each staged output to its final name, the Parquet file last; returns
        kind -> path relative to the output folder."""
        done = {}
        for kind in KINDS:  # dict order: lanes last
            if kind in staged:
                final = self.final(kind, video_id)
                os.replace(staged[kind], final)
                done[kind] = self.relative(final)
        return done
