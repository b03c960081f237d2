"""The wheel installs one top-level package, ``lanecam``, with the bundled model and profiles."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    pytest.importorskip("wheel")
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                           "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {proc.stderr.strip()[-300:]}")
    (path,) = out.glob("lanecam-*.whl")
    return path


@pytest.mark.slow
def test_only_lanecam_is_installed_at_the_top_level(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        top_level = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
        assert zf.read(top_level).decode().split() == ["lanecam"]
        entry = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "lanecam = lanecam.__main__:run" in zf.read(entry).decode()
    packages = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert packages == {"lanecam"}
    for required in ("lanecam/__init__.py", "lanecam/pipeline/detector.py",
                     "lanecam/engines/models/lanefcn/lanefcn.onnx",
                     "lanecam/engines/models/lanefcn/lanefcn.spec.json",
                     "lanecam/calibration/profiles/udacity.json",
                     "lanecam/tools/export/cli.py",
                     # train --recipe v2 starts from and is taught by LaneFCN v1
                     "lanecam/tools/train/teacher/lanefcn-v1.keras",
                     "lanecam/tools/train/teacher/lanefcn-v1.onnx"):
        assert required in names
    assert not any(n.startswith(("lanecam/tests", "lanecam/experiments")) for n in names)


def test_no_module_imports_the_old_top_level_names():
    import ast

    old = {"pipeline", "engines", "calibration", "tools"}
    offenders = []
    for folder in ("pipeline", "engines", "calibration", "tools", "lanecam", "tests",
                   "benchmarks", "examples"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0
                         and node.module else [])
                offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names
                              if n.split(".")[0] in old]
    assert offenders == []
