"""Fixtures for source tests."""

from pathlib import Path

import pytest

from .media import write_video


@pytest.fixture
def small_video(tmp_path) -> Path:
    """12 frames, 64x48, 10 fps."""
    return write_video(tmp_path / "small.mp4", 12)
