"""A regular install works from the repository root: the wheel in a fresh venv (issue 24).

CI installs the project in editable mode, whose import hook finds ``lanecam.<folder>`` whatever
``lanecam`` is; a user runs ``pip install .``. From the repository root, Python finds the
checkout's own ``lanecam/`` folder before the installed package, so everything started there
(``python -m pytest``, Ray workers, ``benchmarks/`` scripts) depends on ``lanecam/__init__.py``
extending its ``__path__`` to the checkout. These tests build the wheel, install it into a
fresh venv and run the README's commands from the root with that venv's Python.

To stay offline and take a minute rather than a full install, the fresh venv reuses the
dependencies of the running interpreter: a ``.pth`` file lists its site-packages folders. Path
lines in a ``.pth`` file do not process the ``.pth`` files of the folders they add, so the
editable install of the running environment (an import hook started from its own ``.pth``)
stays off; ``test_the_venv_runs_the_wheel_not_an_editable_install`` checks that.

CI sets ``LANECAM_REQUIRE_INSTALL_TEST=1`` (``.ci/run``): there, a wheel that cannot be built
or a venv that cannot be made fails these tests instead of skipping them.
"""

import os
import re
import site
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLIP_FRAMES = (30, 16)  # two short clips, so both workers of the 2-CPU local Ray take one

pytestmark = pytest.mark.slow


def _cannot(reason: str):
    """Skip (a machine without ``wheel`` or ``venv``), or fail where CI requires the test."""
    if os.environ.get("LANECAM_REQUIRE_INSTALL_TEST") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def _clean_env() -> dict:
    """This process's environment without what would point Python at another lanecam."""
    return {k: v for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}


def _run(cmd, cwd, env=None, timeout=300):
    return subprocess.run([str(c) for c in cmd], cwd=str(cwd), env=env or _clean_env(),
                          capture_output=True, text=True, timeout=timeout)


class FreshVenv:
    """A venv holding only the wheel, with the running interpreter's dependencies on its path."""

    def __init__(self, folder: Path, purelib: Path):
        self.folder, self.purelib = folder, purelib
        self.python = folder / "bin" / "python"
        self.lanecam = folder / "bin" / "lanecam"   # the wheel's console script
        env = _clean_env()
        env["VIRTUAL_ENV"] = str(folder)
        env["PATH"] = f"{folder / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["PYTHONDONTWRITEBYTECODE"] = "1"   # no __pycache__ left in the checkout
        self.env = env

    def run(self, *args, cwd=ROOT, timeout=300):
        return _run(args, cwd, self.env, timeout)


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    if sys.platform == "win32":
        pytest.skip("the fresh venv layout here is POSIX (bin/)")
    if not hasattr(site, "getsitepackages"):
        _cannot("site.getsitepackages() is missing (an old virtualenv): cannot reuse the deps")
    base = tmp_path_factory.mktemp("install")
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                  "-q", "-w", base / "dist", ROOT], base)
    if built.returncode != 0:  # e.g. setuptools < 70.1 without the 'wheel' package
        _cannot(f"cannot build the wheel (pip install '.[test]'): {built.stderr.strip()[-400:]}")
    (wheel_path,) = (base / "dist").glob("lanecam-*.whl")

    folder = base / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", folder], base)
    if made.returncode != 0:
        _cannot(f"cannot make a venv: {made.stderr.strip()[-400:]}")
    python = folder / "bin" / "python"
    where = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], base)
    assert where.returncode == 0, where.stderr
    purelib = Path(where.stdout.strip()).resolve()
    # The wheel goes in before the .pth exists: pip must see no other lanecam (the running
    # environment's editable one) that it could call "already installed" or try to uninstall.
    installed = _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps",
                      "--no-index", "-q", wheel_path], base)
    assert installed.returncode == 0, installed.stderr
    dirs = list(site.getsitepackages())
    if site.ENABLE_USER_SITE and os.path.isdir(site.getusersitepackages()):
        dirs.append(site.getusersitepackages())
    (purelib / "lanecam_test_reuse_deps.pth").write_text("".join(d + "\n" for d in dirs))
    return FreshVenv(folder, purelib)


def test_the_venv_runs_the_wheel_not_an_editable_install(venv, tmp_path):
    probe = ("import sys, lanecam, lanecam.pipeline; print(lanecam.__file__); "
             "print(lanecam.pipeline.__file__); "
             "print(sorted(m for m in sys.modules if '__editable__' in m))")
    # Away from the checkout: the wheel's files, from the fresh venv's site-packages.
    away = venv.run(venv.python, "-c", probe, cwd=tmp_path)
    assert away.returncode == 0, away.stderr
    init, pipeline, editable = away.stdout.splitlines()
    assert Path(init).resolve().parent == venv.purelib / "lanecam"
    assert Path(pipeline).resolve().parent == venv.purelib / "lanecam" / "pipeline"
    assert editable == "[]"
    # In the root: the checkout's code, found through lanecam's own __path__, with no editable
    # import hook doing it instead (that hook is what lets an editable install pass without it).
    home = venv.run(venv.python, "-c", probe)
    assert home.returncode == 0, home.stderr
    init, pipeline, editable = home.stdout.splitlines()
    assert Path(init).resolve() == ROOT / "lanecam" / "__init__.py"
    assert Path(pipeline).resolve() == ROOT / "pipeline" / "__init__.py"
    assert editable == "[]"


def test_import_from_the_repository_root(venv):
    proc = venv.run(venv.python, "-c", "import lanecam.pipeline")
    assert proc.returncode == 0, proc.stderr


def test_the_smoke_tests_pass_from_the_repository_root(venv):
    proc = venv.run(venv.python, "-m", "pytest", "-q", "-m", "smoke", "-p", "no:cacheprovider",
                    timeout=400)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    passed = re.search(r"(\d+) passed", proc.stdout)
    assert passed and int(passed.group(1)) >= 6, proc.stdout[-2000:]
    assert not re.search(r"\d+ (failed|errors?)\b", proc.stdout)


def _write_clip(path: Path, frames: int) -> Path:
    """A small MPEG-4 part 2 road video (two bright lines on grey) made with OpenCV."""
    import cv2
    import numpy as np

    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (320, 180))
    assert out.isOpened()
    for i in range(frames):
        img = np.full((180, 320, 3), 60, np.uint8)
        img[:60] = (200, 170, 140)
        cv2.line(img, (64 + i % 5, 179), (128, 90), (235, 235, 235), 3)
        cv2.line(img, (256 - i % 5, 179), (192, 90), (235, 235, 235), 3)
        out.write(img)
    out.release()
    return path


def _decoded_frames(path: Path) -> int:
    """Frames OpenCV decodes from ``path``, counted independently of lanecam."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    count = 0
    while cap.read()[0]:
        count += 1
    cap.release()
    return count


def test_batch_from_the_repository_root_on_a_two_worker_local_ray(venv, tmp_path):
    try:
        import pyarrow.parquet as pq
        import ray  # noqa: F401 (the fresh venv's lanecam batch imports it from here)
    except ImportError:
        _cannot("lanecam batch needs Ray and pyarrow (pip install '.[batch]')")
    clips = tmp_path / "clips"
    clips.mkdir()
    videos = [_write_clip(clips / f"clip{n}.mp4", n) for n in CLIP_FRAMES]
    out = tmp_path / "results"
    # Ray workers start in the driver's folder (the root) and import lanecam from there.
    proc = venv.run(venv.lanecam, "batch", clips, "--out", out, "--cpus-per-task", "1",
                    "--max-concurrency", "2", "--quiet", timeout=400)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    for video in videos:
        decoded = _decoded_frames(video)
        assert decoded == int(video.stem[len("clip"):])
        (part,) = (out / "lanes").glob(f"{video.stem}-*.parquet")
        table = pq.read_table(part)
        assert table.num_rows == decoded
        assert table.column("frame_id").to_pylist() == list(range(decoded))


def test_a_benchmark_script_runs_from_the_repository_root(venv):
    proc = venv.run(venv.python, "benchmarks/model_latency.py", "--runs", "20")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"lanefcn\.onnx: onnxruntime.*batch 1, 20 runs: mean \d", proc.stdout), \
        proc.stdout
