"""Install the repository's top-level folders as one namespace, ``lanecam``.

The folders stay where the product's layout puts them (``pipeline/``, ``engines/``,
``calibration/``, ``tools/``); ``package_dir`` maps each to ``lanecam.<folder>``, so nothing but
``lanecam`` lands at the top level of site-packages. Everything else is in ``pyproject.toml``.
"""

from setuptools import find_packages, setup

FOLDERS = ("pipeline", "engines", "calibration", "tools")

packages = ["lanecam"]
for folder in FOLDERS:
    packages += ["lanecam." + name for name in find_packages(include=[folder, folder + ".*"])]

setup(
    packages=packages,
    package_dir={"lanecam": "lanecam", **{f"lanecam.{f}": f for f in FOLDERS}},
    package_data={"lanecam.engines": ["models/*/*"], "lanecam.calibration": ["profiles/*.json"],
                  # the recipes' warm starts and teachers (LaneFCN v1 for v2, v2 for v3)
                  "lanecam.tools.train": ["teacher/*"]},
)
