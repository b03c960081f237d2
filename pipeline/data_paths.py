"""Where the shared data (real frames, TuSimple labels, models) is: one rule for every default.

``Path(__file__)``-relative defaults break after ``pip install .`` (they point inside
site-packages), so the data folder is, in order: an explicit flag; ``$LANECAM_DATA``;
``./shared/data`` or ``../shared/data`` from the current directory; and, for a source checkout
(an editable install), ``../shared/data`` beside the repository.
"""

import os
from pathlib import Path
from typing import Optional

__all__ = ["DATA_ENV", "data_folder", "data_path"]

DATA_ENV = "LANECAM_DATA"


def _checkout_root() -> Optional[Path]:
    """The repository root when running from a source checkout, else None (site-packages)."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() else None


def data_folder(explicit=None) -> Optional[Path]:
    """The data folder: ``explicit``, else ``$LANECAM_DATA``, else the first existing of
    ``./shared/data``, ``../shared/data`` and ``<checkout>/../shared/data``; None if none."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    candidates = [Path.cwd() / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    root = _checkout_root()
    if root is not None:
        candidates.append(root.parent / "shared" / "data")
    return next((c for c in candidates if c.is_dir()), None)


def data_path(*parts: str) -> Optional[Path]:
    """``<data folder>/<parts>`` when it exists, else None (the caller says what is missing)."""
    folder = data_folder()
    if folder is None:
        return None
    path = folder.joinpath(*parts)
    return path if path.exists() else None
