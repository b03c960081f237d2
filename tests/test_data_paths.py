"""The data folder: explicit flag, else $LANECAM_DATA, else ./shared/data or ../shared/data."""

from lanecam.pipeline.data_paths import data_folder, data_path


def test_order(tmp_path, monkeypatch):
    work = tmp_path / "work"
    (work / "shared" / "data" / "images").mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.delenv("LANECAM_DATA", raising=False)
    assert data_folder() == work / "shared" / "data"
    assert data_path("images") == work / "shared" / "data" / "images"
    assert data_path("tusimple") is None
    monkeypatch.setenv("LANECAM_DATA", str(tmp_path / "env"))
    assert data_folder() == tmp_path / "env"
    assert data_folder("flag").name == "flag"


def test_parent_of_cwd(tmp_path, monkeypatch):
    (tmp_path / "shared" / "data").mkdir(parents=True)
    (tmp_path / "repo").mkdir()
    monkeypatch.chdir(tmp_path / "repo")
    monkeypatch.delenv("LANECAM_DATA", raising=False)
    assert data_folder() == tmp_path / "shared" / "data"
