"""Without OpenCV (pip installs none on aarch64): ``lanecam --help`` works and a command that
needs it ends with one line saying how to get it, exit 2."""

import subprocess
import sys

import pytest

# cv2 made unimportable the way a missing package is (ModuleNotFoundError, name "cv2")
_NO_CV2 = ("import sys\n"
           "class Block:\n"
           "    def find_spec(self, name, path=None, target=None):\n"
           "        if name == 'cv2' or name.startswith('cv2.'):\n"
           "            raise ModuleNotFoundError(\"No module named 'cv2'\", name='cv2')\n"
           "sys.meta_path.insert(0, Block())\n"
           "from lanecam.pipeline.cli import main\n"
           "sys.exit(main(sys.argv[1:]))\n")


def _lanecam_without_cv2(*argv):
    return subprocess.run([sys.executable, "-c", _NO_CV2, *argv], capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("argv", [["--help"], ["export", "--help"], ["run", "--help"]])
def test_help_works_without_cv2(argv):
    res = _lanecam_without_cv2(*argv)
    assert res.returncode == 0, res.stderr
    assert "usage: lanecam" in res.stdout


def test_missing_cv2_is_one_line_saying_what_to_do():
    res = _lanecam_without_cv2("run", "synthetic://?frames=1")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    assert "--system-site-packages" in lines[0] and "opencv-python-headless" in lines[0]
