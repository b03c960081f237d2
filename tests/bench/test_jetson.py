"""Jetson detection on fake filesystem trees: L4T / JetPack, power mode, clock state."""

import pytest

from lanecam.pipeline.bench.jetson import (clocks_state, is_jetson, jetpack_for_l4t, jetson_info,
                                   parse_nv_tegra_release, parse_nvpmodel_query)

R32_7_1 = ("# R32 (release), REVISION: 7.1, GCID: 29818004, BOARD: t210ref, EABI: aarch64, "
           "DATE: Sat Feb 19 17:05:08 UTC 2022\n")
R35_4_1 = ("# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64, "
           "DATE: Tue Aug  1 19:57:35 UTC 2023\n")
R36_3_0 = ("# R36 (release), REVISION: 3.0, GCID: 36191598, BOARD: generic, EABI: aarch64, "
           "DATE: Mon May  6 17:34:21 UTC 2024\n# KERNEL_VARIANT: oot\n")
NVPMODEL_CONF = """\
< POWER_MODEL ID=0 NAME=MAXN >
CPU_ONLINE CORE_0 1
< POWER_MODEL ID=1 NAME=10W >
CPU_ONLINE CORE_0 1
"""


def _tree(root, release, model="NVIDIA Jetson Nano Developer Kit", locked=True, pmode=0):
    (root / "etc").mkdir(parents=True)
    (root / "etc/nv_tegra_release").write_text(release)
    (root / "etc/nvpmodel.conf").write_text(NVPMODEL_CONF)
    (root / "var/lib/nvpmodel").mkdir(parents=True)
    (root / "var/lib/nvpmodel/status").write_text(f"pmode:{pmode:04d} fmode:quiet\n")
    (root / "proc/device-tree").mkdir(parents=True)
    (root / "proc/device-tree/model").write_bytes(model.encode() + b"\x00")
    for cpu in range(2):
        d = root / f"sys/devices/system/cpu/cpu{cpu}/cpufreq"
        d.mkdir(parents=True)
        (d / "scaling_max_freq").write_text("1479000\n")
        (d / "scaling_min_freq").write_text("1479000\n" if locked else "102000\n")
    gpu = root / "sys/devices/gpu.0/devfreq/57000000.gpu"
    gpu.mkdir(parents=True)
    (gpu / "max_freq").write_text("921600000\n")
    (gpu / "min_freq").write_text("921600000\n" if locked else "76800000\n")
    return root


@pytest.mark.parametrize("text, l4t, board, jetpack", [
    (R32_7_1, "32.7.1", "t210ref", "4.6.1"),
    (R35_4_1, "35.4.1", "t186ref", "5.1.2"),
    (R36_3_0, "36.3.0", "generic", "6.0"),
])
def test_release_file_to_l4t_and_jetpack(text, l4t, board, jetpack):
    rel = parse_nv_tegra_release(text)
    assert rel == {"l4t": l4t, "board": board}
    assert jetpack_for_l4t(rel["l4t"]) == jetpack


def test_unknown_releases():
    assert parse_nv_tegra_release("not a release file") is None
    assert jetpack_for_l4t("99.1.0") is None


@pytest.mark.parametrize("text, expected", [
    ("NV Power Mode: MAXN\n0\n", {"name": "MAXN", "id": 0}),
    ("NVPM WARN: fan mode is not set!\nNV Power Mode: 15W\n2\n", {"name": "15W", "id": 2}),
    ("NV Power Mode: 7W\n", {"name": "7W"}),
    ("nvpmodel: command not found", None),
])
def test_nvpmodel_query(text, expected):
    assert parse_nvpmodel_query(text) == expected


def test_not_a_jetson(tmp_path):
    assert not is_jetson(str(tmp_path))
    assert jetson_info(str(tmp_path), run_tools=False) is None


def test_jetson_with_clocks_locked(tmp_path):
    root = str(_tree(tmp_path, R32_7_1))
    info = jetson_info(root, run_tools=False)
    assert info["model"] == "NVIDIA Jetson Nano Developer Kit"
    assert (info["l4t"], info["jetpack"]) == ("32.7.1", "4.6.1")
    assert info["jetpack_source"] == "L4T release table"
    assert info["nvpmodel"] == {"id": 0, "name": "MAXN"}
    assert info["clocks_locked"] is True
    assert info["warnings"] == []


def test_jetson_without_jetson_clocks_is_warned(tmp_path):
    root = str(_tree(tmp_path, R35_4_1, locked=False, pmode=1))
    info = jetson_info(root, run_tools=False)
    assert info["nvpmodel"] == {"id": 1, "name": "10W"}
    assert info["clocks_locked"] is False
    assert any("jetson_clocks" in w for w in info["warnings"])


def test_clock_state_reads_cpus_and_gpu(tmp_path):
    root = str(_tree(tmp_path, R36_3_0, locked=False))
    state = clocks_state(root)
    assert set(state["cpus"]) == {"cpu0", "cpu1"}
    assert state["cpus"]["cpu0"] == {"min_khz": 102000, "max_khz": 1479000}
    assert state["gpu"]["max_hz"] == 921600000
    assert clocks_state(str(tmp_path / "empty"))["locked"] is None
