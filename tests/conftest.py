"""Shared fixtures: the real data folder (``../shared/data``) when present; the repository's
``experiments`` package made importable."""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def _register_experiments() -> None:
    """Make ``import experiments.<name>`` work (the experiment scripts' tests need it) without
    putting the repository root on ``sys.path``: that would also make the top-level folders
    ``pipeline``, ``tools``, ... importable under their bare names, which must fail."""
    if "experiments" in sys.modules:
        return
    folder = ROOT / "experiments"
    spec = importlib.util.spec_from_file_location("experiments", folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["experiments"] = module
    spec.loader.exec_module(module)


_register_experiments()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ``../shared/data``; the test is skipped when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent")
    return SHARED_DATA
