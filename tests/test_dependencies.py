"""Dependencies point one way, core <- engines <- tools: the runtime (``lanecam.pipeline``,
``lanecam.engines``, ``lanecam.calibration``) never imports the offline tools, and importing it
never loads TensorFlow or Keras (a Jetson runs it with numpy, OpenCV and TensorRT alone).

Two checks: every runtime module is imported in a fresh interpreter and ``sys.modules`` is
inspected after each one (what actually gets loaded, at module level); and an AST scan of every
import statement in the runtime's source, including those inside functions (a lazy import of
``lanecam.tools`` is still a dependency on the tools).
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

RUNTIME = ("lanecam.pipeline", "lanecam.engines", "lanecam.calibration")
FORBIDDEN_LOADED = ("lanecam.tools", "tensorflow", "keras", "tf_keras")

_WALK = r"""
import importlib, json, pkgutil, sys
runtime, forbidden = json.loads(sys.argv[1])
bad, seen = {}, set()
for root in runtime:
    package = importlib.import_module(root)
    names = [root] + [m.name for m in pkgutil.walk_packages(package.__path__, root + ".")]
    for name in names:
        importlib.import_module(name)
        seen.add(name)
        for f in forbidden:
            if any(mod == f or mod.startswith(f + ".") for mod in sys.modules):
                bad.setdefault(f, name)
print(json.dumps({"bad": bad, "seen": sorted(seen)}))
"""


def _runtime_files():
    for name in RUNTIME:
        package = __import__(name, fromlist=["_"])
        for folder in package.__path__:
            yield from sorted(Path(folder).rglob("*.py"))


def test_importing_the_runtime_loads_neither_tools_nor_tensorflow():
    proc = subprocess.run([sys.executable, "-c", _WALK, json.dumps([RUNTIME, FORBIDDEN_LOADED])],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "lanecam.engines.keras_engine" in report["seen"]  # the walk reached the engines
    assert "lanecam.pipeline.heatmap.model" in report["seen"]
    # module loaded -> the runtime module whose import first loaded it
    assert report["bad"] == {}


def _tool_imports(path: Path):
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name == "lanecam.tools" or name.startswith("lanecam.tools.") or \
                    name == "tools" or name.startswith("tools."):
                yield f"{path.name}:{node.lineno}: {name}"
                break


def test_no_runtime_source_imports_the_tools():
    files = list(_runtime_files())
    assert len(files) > 20
    found = [hit for path in files for hit in _tool_imports(path)]
    assert found == []


@pytest.mark.parametrize("source, flagged", [
    ("from lanecam.tools.export import keras_io", True),
    ("def f():\n    import lanecam.tools.fcn.model\n", True),
    ("from lanecam import tools", True),
    ("from lanecam.engines import keras_loader", False),
    ("TOOLS = 'lanecam.tools.export.cli'", False),  # a name in a lazy CLI registry
])
def test_the_scan_finds_module_level_and_lazy_imports(tmp_path, source, flagged):
    path = tmp_path / "m.py"
    path.write_text(source)
    assert bool(list(_tool_imports(path))) is flagged

