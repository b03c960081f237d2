"""What ``lanecam batch INPUT...`` processes: the videos and image sequences behind the inputs.

An INPUT is a video file, an MCAP file or ROS bag (a ROS 1 ``.bag``, a ROS 2 bag folder with
``metadata.yaml``), a folder (searched recursively: every video and recording in it, and every
folder holding images as one sequence), a glob (``"drives/**/*.mp4"``; a glob matching only images
is one sequence) or a manifest (``.txt``: one path a line, ``#`` comments; ``.csv``: the
``path`` column, or the first one), whose relative paths are relative to the manifest.

Nothing is opened here (a thousand-video archive is listed in a moment): each job carries
what the done-ledger keys on, the path, size and modification time. Inputs that name nothing
(a missing file, a glob matching nothing, an empty folder) are returned as ``BadInput`` so the
job can go on with the others and list them at the end.
"""

import csv
import glob
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple

from lanecam.pipeline.constants import IMAGE_EXTENSIONS, RECORDING_EXTENSIONS, VIDEO_EXTENSIONS

__all__ = ["VideoJob", "BadInput", "discover", "VIDEO_EXTENSIONS", "MANIFEST_EXTENSIONS"]

MANIFEST_EXTENSIONS = (".txt", ".csv")


@dataclass(frozen=True)
class VideoJob:
    """One video (or image sequence) to process.

    Attributes:
        source: what ``open_source`` is given (a path, or a glob for a glob sequence).
        path: the absolute path (the folder for an image folder), as shown and keyed on.
        kind: "video", "images" or "recording" (an MCAP file or ROS bag).
        size: bytes (the sum over the images of a sequence).
        mtime_ns: modification time (the newest image of a sequence).
        video_id: a name unique to ``path``: ``<stem>-<8 hex digits of its hash>``; the
            output files are named after it.
    """

    source: str
    path: str
    kind: str
    size: int
    mtime_ns: int
    video_id: str


@dataclass(frozen=True)
class BadInput:
    """An INPUT (or manifest line) that names nothing to process, and why."""

    text: str
    reason: str


def video_id_for(path: str) -> str:
    """``<stem>-<hash>``: readable, and unique even when many days hold a ``cam_front.mp4``."""
    name = Path(path.rstrip("/")).name or "input"
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).stem if Path(name).suffix else name)
    digest = hashlib.sha1(path.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{stem.strip('._') or 'input'}-{digest}"


def _is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def _is_video(name: str) -> bool:
    return name.lower().endswith(VIDEO_EXTENSIONS)


def _is_recording(name: str) -> bool:
    return name.lower().endswith(RECORDING_EXTENSIONS)


def _is_bag_folder(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "metadata.yaml"))


def _video_job(path: str) -> VideoJob:
    st = os.stat(path)
    kind = "recording" if _is_recording(path) else "video"
    return VideoJob(path, path, kind, st.st_size, st.st_mtime_ns, video_id_for(path))


def _bag_folder_job(path: str) -> VideoJob:
    """A ROS 2 bag folder: one input, keyed on all its files (metadata and storage)."""
    size = mtime = 0
    for name in sorted(os.listdir(path)):
        st = os.stat(os.path.join(path, name))
        size += st.st_size
        mtime = max(mtime, st.st_mtime_ns)
    return VideoJob(path, path, "recording", size, mtime, video_id_for(path))


def _sequence_job(source: str, path: str, files: Sequence[str]) -> VideoJob:
    size = mtime = 0
    for name in files:
        try:
            st = os.stat(name)
        except OSError:
            continue  # unreadable images are the source's business: it skips and names them
        size += st.st_size
        mtime = max(mtime, st.st_mtime_ns)
    return VideoJob(source, path, "images", size, mtime, video_id_for(source))


def _inside(path: str, folder: Optional[str]) -> bool:
    """Whether ``path`` is ``folder`` (a resolved path) or lies in it, compared resolved: the
    output folder reached through a link to its parent is still the output folder."""
    if folder is None:
        return False
    path = os.path.realpath(path)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _walk(folder: str, exclude: Optional[str]) -> List[VideoJob]:
    """Videos and image folders under ``folder``, sorted; hidden entries and ``exclude``
    (the output folder: its annotated videos are not inputs) left out."""
    jobs = []
    for root, dirs, files in os.walk(folder):
        if _is_bag_folder(root):
            jobs.append(_bag_folder_job(root))  # its .mcap/.db3 files are its storage
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                         and not _inside(os.path.join(root, d), exclude))
        visible = sorted(f for f in files if not f.startswith("."))
        images = [os.path.join(root, f) for f in visible if _is_image(f)]
        if images:
            jobs.append(_sequence_job(root, root, images))
        jobs += [_video_job(os.path.join(root, f)) for f in visible
                 if _is_video(f) or _is_recording(f)]
    return sorted(jobs, key=lambda j: j.path)  # path order, not the walk's files-first order


def _manifest_entries(path: str) -> Tuple[List[str], Optional[str]]:
    """The paths a manifest lists (relative ones made relative to it), or an error text."""
    base = os.path.dirname(path)
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            if path.lower().endswith(".csv"):
                rows = [r for r in csv.reader(fh) if r and any(c.strip() for c in r)]
                column = 0
                if rows and "path" in [c.strip().lower() for c in rows[0]]:
                    column = [c.strip().lower() for c in rows[0]].index("path")
                    rows = rows[1:]
                lines = [r[column].strip() if len(r) > column else "" for r in rows]
            else:
                lines = [ln.strip() for ln in fh]
    except UnicodeDecodeError:
        return [], "not UTF-8 text (expected one path a line)"
    except OSError as exc:
        return [], f"cannot be read ({exc.strerror})"
    except csv.Error as exc:
        return [], f"not valid CSV ({exc})"
    entries = [ln for ln in lines if ln and not ln.startswith("#")]
    return [e if os.path.isabs(e) else os.path.join(base, e) for e in entries], None


def _one(text: str, exclude: Optional[str], in_manifest: bool) -> Tuple[List[VideoJob],
                                                                         List[BadInput]]:
    path = os.path.abspath(os.path.expanduser(text))
    if glob.has_magic(text) and not os.path.exists(path):
        matches = sorted(os.path.abspath(m) for m in glob.glob(path, recursive=True))
        matches = [m for m in matches if not _inside(m, exclude)]
        if not matches:
            return [], [BadInput(text, "matches no file")]
        if all(os.path.isfile(m) and _is_image(m) for m in matches):
            return [_sequence_job(path, path, matches)], []
        jobs, bad = [], []
        for m in matches:
            j, b = _one(m, exclude, in_manifest=True)  # no manifests inside globs either
            jobs += j
            bad += b
        return jobs, bad
    if os.path.isdir(path):
        if _is_bag_folder(path):
            return [_bag_folder_job(path)], []
        jobs = _walk(path, exclude)
        return (jobs, []) if jobs else ([], [BadInput(text, "no videos or image folders in "
                                                            "this folder (nor MCAP files or "
                                                            "ROS bags)")])
    if not os.path.exists(path):
        return [], [BadInput(text, "no such file or folder")]
    if path.lower().endswith(MANIFEST_EXTENSIONS):
        if in_manifest:
            return [], [BadInput(text, "a manifest inside a manifest or glob; expected a "
                                       "video, folder or glob")]
        entries, error = _manifest_entries(path)
        if error:
            return [], [BadInput(text, error)]
        if not entries:
            return [], [BadInput(text, "an empty manifest (expected one path a line)")]
        jobs, bad = [], []
        for entry in entries:
            j, b = _one(entry, exclude, in_manifest=True)
            jobs += j
            bad += [BadInput(f"{text}: {x.text}", x.reason) for x in b]
        return jobs, bad
    if _is_image(path):
        return [_sequence_job(path, path, [path])], []
    return [_video_job(path)], []


def discover(inputs: Iterable[str], exclude: Optional[str] = None
             ) -> Tuple[List[VideoJob], List[BadInput]]:
    """The jobs behind ``inputs``, in the order given (folders sorted), each once.

    Args:
        inputs: files, folders, globs and manifests as typed by the user.
        exclude: a folder never searched (the output folder), however it is reached (links
            are resolved on both sides).
    Returns ``(jobs, bad)``: the jobs, and the inputs that named nothing with the reason.
    """
    exclude = os.path.realpath(exclude) if exclude else None
    jobs: List[VideoJob] = []
    bad: List[BadInput] = []
    seen = set()
    for text in inputs:
        found, problems = _one(str(text), exclude, in_manifest=False)
        bad += problems
        for job in found:
            key = os.path.realpath(job.source) if not glob.has_magic(job.source) else job.source
            if key not in seen:  # the same video through two inputs is processed once
                seen.add(key)
                jobs.append(job)
    return jobs, bad
