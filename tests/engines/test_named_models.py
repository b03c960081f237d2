"""Bundled models by name: ``--model default`` is the bundled model unless a file is named so."""

from pathlib import Path

import pytest

from lanecam.engines.loader import NAMED_MODELS, default_model_path, open_engine, resolve_model
from lanecam.pipeline.errors import InputError


def test_a_name_is_the_bundled_model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_model("default") == default_model_path()
    assert resolve_model("default", "keras").suffix == ".keras"
    assert resolve_model(None) == default_model_path()
    assert set(NAMED_MODELS) == {"default"}
    for name in NAMED_MODELS:
        assert default_model_path(name=name).is_file()


def test_a_file_of_that_name_wins(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("default").write_bytes(b"not a model")
    assert resolve_model("default") == Path("default")
    with pytest.raises(InputError):
        open_engine("default")


def test_an_unknown_name_is_a_missing_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="not found"):
        open_engine("fastest")
