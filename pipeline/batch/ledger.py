"""The done-ledger: which videos an output folder already holds, so a rerun skips them.

``OUT/_ledger.jsonl`` gets one line per video finished, done or damaged (its outputs hold
every frame that could be read; the line keeps the damage), appended, flushed and synced by
the driver after the video's files were renamed into place. A video is skipped when its latest
line has the same key (its path, size and modification time, and the model identity) and
the outputs asked for now are all there; anything else (a changed file, another model, a
``--videos`` not made before, a file deleted since) is redone. A line cut short by a crash is
ignored, so the worst a crash can cost is redoing one video.
"""

import hashlib
import json
import os
from pathlib import Path
from typing import Dict, Iterable, Optional

from lanecam.pipeline.errors import LanecamError

__all__ = ["Ledger", "video_key", "model_identity", "LEDGER_NAME"]

LEDGER_NAME = "_ledger.jsonl"
_CHUNK = 1 << 20


def video_key(job, model: str) -> Dict[str, object]:
    """What a finished video is recognised by: path, size, mtime and model identity."""
    return {"path": job.path, "size": job.size, "mtime_ns": job.mtime_ns, "model": model}


def _hash_file(digest, path: Path) -> None:
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)


def _hash_path(digest, path: Optional[str]) -> None:
    """Content of a file, or of every file of a folder (a SavedModel) with its name."""
    if not path:
        digest.update(b"-")
        return
    p = Path(path)
    if p.is_dir():
        for f in sorted(x for x in p.rglob("*") if x.is_file()):
            digest.update(str(f.relative_to(p)).encode())
            _hash_file(digest, f)
    elif p.is_file():
        _hash_file(digest, p)
    else:
        digest.update(f"missing:{path}".encode())


def model_identity(model_path: str, engine: str, spec: Optional[str] = None,
                   calibration: Optional[str] = None, version: str = "",
                   crop_top: Optional[float] = None) -> str:
    """``sha256:<16 hex>`` of what decides the results: the model's bytes (not its name: a
    retrained model under the same name is another model), the ModelSpec and calibration
    files, the engine asked for, the lanecam version and a ``--crop-top`` override (left out
    when not given, so the folders of earlier jobs stay done)."""
    digest = hashlib.sha256()
    for part in (model_path, spec, calibration):
        _hash_path(digest, part)
    digest.update(f"|{engine}|{version}".encode())
    if crop_top is not None:
        # a number keeps the identity it had before "auto" existed
        value = crop_top if isinstance(crop_top, str) else float(crop_top)
        digest.update(f"|crop_top={value!r}".encode())
    return "sha256:" + digest.hexdigest()[:16]


class Ledger:
    """The ledger file of an output folder.

    Args:
        folder: the output folder (``--out``).
    """

    def __init__(self, folder):
        self.path = Path(folder) / LEDGER_NAME
        self.entries: Dict[str, dict] = {}

    def load(self) -> "Ledger":
        """Read the file (missing: empty); the latest line of a path wins; returns self."""
        self.entries = {}
        try:
            with open(self.path, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    try:
                        entry = json.loads(line)
                        self.entries[entry["key"]["path"]] = entry
                    except (ValueError, KeyError, TypeError):
                        continue  # a line cut short by a crash: that video is redone
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise LanecamError(f"{self.path}: cannot read the ledger ({exc.strerror})") from None
        return self

    def done(self, key: dict, wanted: Iterable[str]) -> Optional[dict]:
        """The entry when the video of ``key`` is done with every output kind in ``wanted``
        (``"lanes"``, ``"videos"``, ``"jsonl"``) present on disk; else None."""
        entry = self.entries.get(key["path"])
        if entry is None or entry.get("key") != key:
            return None
        outputs = entry.get("outputs", {})
        for kind in wanted:
            name = outputs.get(kind)
            if not name or not (self.path.parent / name).is_file():
                return None
        return entry

    def record(self, key: dict, outputs: Dict[str, str], summary: dict) -> None:
        """Append the entry of a finished video (``outputs``: kind -> path relative to the
        folder) and make it durable before returning."""
        entry = {"key": key, "outputs": outputs, "summary": summary}
        line = json.dumps(entry, separators=(",", ":"), allow_nan=False) + "\n"
        try:
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise LanecamError(f"{self.path}: cannot write the ledger ({exc.strerror})") from None
        self.entries[key["path"]] = entry
