"""The TensorRT plan cache: one plan per (ONNX content, precision, DLA core), each with a sidecar
JSON that says what it was built for, checked before deserializing.

Plans run only on the TensorRT version and GPU they were built for. The sidecar
records both; a plan whose sidecar differs is rebuilt (cache) or refused (a plan given by the
user), with a message that names the differing field. A cache folder that is not writable is
an error when the cache is created, not a silent rebuild on every run.
"""

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.safe_load import json_loads

__all__ = ["EngineCache", "default_cache_dir", "sha256_file", "expected_sidecar",
           "sidecar_path_for", "sidecar_differences", "read_sidecar", "write_sidecar",
           "MATCH_FIELDS", "PlanMismatchError"]

# fields that must be equal for a plan to be usable here, in the order they are reported
MATCH_FIELDS = ("tensorrt_version", "compute_capability", "gpu_name", "onnx_sha256",
                "precision", "input_shape", "dla_core")


class PlanMismatchError(InputError):
    """A plan's sidecar does not match this machine or model; ``differences`` lists why."""

    def __init__(self, plan, differences: List[Tuple[str, object, object]]):
        self.differences = differences
        super().__init__(f"{plan}: {describe_differences(differences)}")


def default_cache_dir() -> Path:
    """``$LANECAM_ENGINE_CACHE``, else ``$XDG_CACHE_HOME/lanecam/engines`` (~/.cache/...)."""
    env = os.environ.get("LANECAM_ENGINE_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lanecam" / "engines"


def sha256_file(path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sidecar_path_for(plan_path) -> Path:
    """``model.plan`` -> ``model.plan.json``."""
    p = Path(plan_path)
    return p.with_name(p.name + ".json")


def expected_sidecar(trt_version: str, gpu_name: str, compute_capability, precision: str,
                     input_shape, dla_core: Optional[int], onnx_sha256: str) -> Dict:
    """The sidecar a plan built here, now, from this ONNX would have."""
    cc = compute_capability
    return {
        "tensorrt_version": str(trt_version),
        "gpu_name": str(gpu_name),
        "compute_capability": cc if isinstance(cc, str) else ".".join(str(int(v)) for v in cc),
        "precision": precision,
        "input_shape": [int(d) for d in input_shape],
        "dla_core": dla_core,
        "onnx_sha256": onnx_sha256,
    }


def read_sidecar(plan_path) -> Dict:
    """The sidecar of ``plan_path``; InputError when missing or unreadable."""
    path = sidecar_path_for(plan_path)
    if not path.is_file():
        raise InputError(f"{plan_path}: no sidecar {path.name}; cannot tell which TensorRT and "
                         "GPU built it (rebuild it with lanecam export --trt)")
    try:
        data = json_loads(path.read_text(), str(path))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: unreadable plan sidecar ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object")
    return data


def write_sidecar(plan_path, sidecar: Dict) -> Path:
    path = sidecar_path_for(plan_path)
    _write_atomic(path, (json.dumps(sidecar, indent=2, sort_keys=True) + "\n").encode())
    return path


def sidecar_differences(have: Dict, want: Dict, fields=MATCH_FIELDS) -> List[Tuple[str, object, object]]:
    """(field, plan's value, this machine's value) for every field that differs."""
    return [(f, have.get(f), want.get(f)) for f in fields if have.get(f) != want.get(f)]


def describe_differences(diffs) -> str:
    """"built for tensorrt_version 10.3.0 but this is 10.13.0; ..." in one line."""
    return "; ".join(f"{field} is {have!r} in the plan but {want!r} here"
                     for field, have, want in diffs)


def _check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise InputError(f"engine cache folder {folder} is not writable ({exc.strerror or exc}); "
                         "choose another with --engine-cache DIR or LANECAM_ENGINE_CACHE, or the "
                         "engine would be rebuilt on every start") from None


class EngineCache:
    """A folder of plans with sidecars. Creating it checks that the folder is writable.

    Args:
        folder: the cache folder; default ``default_cache_dir()``.
        say: where notes go (a rebuild and its reason).
    """

    def __init__(self, folder=None, say: Callable = print):
        self.folder = Path(folder) if folder is not None else default_cache_dir()
        self.say = say
        _check_writable(self.folder)

    def plan_path(self, onnx_path, onnx_sha256: str, precision: str,
                  dla_core: Optional[int] = None) -> Path:
        """Where the plan of this ONNX content and precision lives (version/GPU in the sidecar,
        so an upgrade of TensorRT is reported as such, not silently missed)."""
        dla = "" if dla_core is None else f"-dla{dla_core}"
        return self.folder / f"{Path(onnx_path).stem}-{onnx_sha256[:12]}-{precision}{dla}.plan"

    def lookup(self, plan: Path, want: Dict) -> Optional[Path]:
        """``plan`` when it exists and its sidecar matches ``want``, else None (saying why)."""
        if not plan.is_file():
            return None
        try:
            have = read_sidecar(plan)
        except InputError as exc:
            self.say(f"engine cache: {exc}; rebuilding")
            return None
        diffs = sidecar_differences(have, want)
        if diffs:
            self.say(f"engine cache: {plan.name}: {describe_differences(diffs)}; rebuilding")
            return None
        return plan

    def get_or_build(self, onnx_path, want: Dict, build: Callable[[], bytes],
                     extra: Optional[Dict] = None) -> Path:
        """The cached plan matching ``want``, or one built now with ``build()`` and stored
        atomically with its sidecar (``want`` plus ``extra``, e.g. the ModelSpec)."""
        plan = self.plan_path(onnx_path, want["onnx_sha256"], want["precision"], want["dla_core"])
        if self.lookup(plan, want):
            self.say(f"engine cache: using {plan}")
            return plan
        data = build()
        # the old sidecar goes first: a crash in between leaves a plan without sidecar, which
        # the next lookup rebuilds, never a new plan described by the old sidecar
        sidecar_path_for(plan).unlink(missing_ok=True)
        _write_atomic(plan, data)
        _write_atomic(sidecar_path_for(plan), (json.dumps({**(extra or {}), **want}, indent=2,
                                                          sort_keys=True) + "\n").encode())
        self.say(f"engine cache: stored {plan}")
        return plan


def _write_atomic(path: Path, data: bytes) -> None:
    """Write through a uniquely named temporary file in the same folder, then rename: a
    concurrent reader (another lanecam process) sees the old file or the new one, whole."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_plan(plan_path, want: Dict) -> None:
    """Refuse a user-given plan whose sidecar differs from ``want`` (naming the fields)."""
    # the ONNX a user-given plan came from is unknown here: everything else must match
    diffs = sidecar_differences(read_sidecar(plan_path), want,
                                [f for f in MATCH_FIELDS if f != "onnx_sha256"])
    if diffs:
        raise PlanMismatchError(plan_path, diffs)


__all__ += ["check_plan", "describe_differences"]
