"""tegrastats lines of several JetPack releases, as recorded on real boards, and the sampler.

Sources of the recorded lines (formats as documented in NVIDIA's L4T Development Guide,
"tegrastats Utility", for each release):
- L4T 28.1 / JetPack 3.1, Jetson TX1 (hordiales/jetson-tx1-dev, SCRIPTS.md)
- L4T 32 / JetPack 4, Jetson Nano (power rails POM_*, mW without unit)
- L4T 32 / JetPack 4, Jetson Xavier NX (henrygd/beszel PR #1631, "pre jetpack5")
- L4T 35/36 / JetPack 5-6, Jetson AGX Orin 64GB (GDWR/jetson_exporter issue #14)
- L4T 36 / JetPack 6, Jetson Orin Nano (timestamp, lower-case sensors, rails with mW)
"""

import os
import stat
import sys
import textwrap

import pytest

from lanecam.pipeline.bench.tegrastats import TegrastatsSampler, parse_tegrastats, summarize_tegrastats

TX1_JP3 = ("RAM 3468/3983MB (lfb 48x4MB) SWAP 873/8192MB (cached 295MB) "
           "cpu [17%,13%,29%,5%]@408 EMC 1%@408 APE 25 GR3D 3%@76")
NANO_JP4 = ("RAM 1766/3964MB (lfb 197x4MB) SWAP 0/2048MB (cached 0MB) "
            "CPU [24%@1224,15%@1224,13%@1224,10%@1224] EMC_FREQ 0% GR3D_FREQ 0% PLL@21C "
            "CPU@25C PMIC@100C GPU@23.5C AO@33.5C thermal@24.5C POM_5V_IN 2545/2547 "
            "POM_5V_GPU 0/0 POM_5V_CPU 549/529")
XAVIER_NX_JP4 = ("RAM 3276/7859MB (lfb 5x4MB) SWAP 1626/12122MB (cached 181MB) "
                 "CPU [44%@1421,49%@2031,67%@2034,17%@1420,25%@1419,8%@1420] EMC_FREQ 1%@1866 "
                 "GR3D_FREQ 0%@114 APE 150 MTS fg 1% bg 1% PLL@42.5C MCPU@42.5C PMIC@50C "
                 "Tboard@38C GPU@39.5C BCPU@42.5C thermal@41.3C Tdiode@39.25C "
                 "VDD_SYS_GPU 182/182 VDD_SYS_SOC 730/730 VDD_4V0_WIFI 0/0 VDD_IN 5297/5297 "
                 "VDD_SYS_CPU 1917/1917 VDD_SYS_DDR 1241/1241")
AGX_ORIN_JP5 = ("04-11-2025 10:36:27 RAM 4321/62801MB (lfb 1759x4MB) SWAP 19/31400MB "
                "(cached 0MB) CPU [0%@729,0%@729,0%@729,0%@729,0%@729,0%@729,0%@729,0%@729,"
                "0%@729,0%@729,0%@729,0%@729] EMC_FREQ 0%@2133 GR3D_FREQ 0%@[0,0] VIC_FREQ 729 "
                "APE 174 CV0@-256C CPU@44.562C Tboard@32C SOC2@40.093C Tdiode@33C SOC0@41.093C "
                "CV1@-256C GPU@-256C tj@44.343C SOC1@41.25C CV2@-256C VDD_GPU_SOC 2340mW/2340mW "
                "VDD_CPU_CV 390mW/390mW VIN_SYS_5V0 4025mW/4025mW NC 0mW/0mW "
                "VDDQ_VDD2_1V8AO 301mW/301mW NC 0mW/0mW")
ORIN_NANO_JP6 = ("12-23-2024 22:54:11 RAM 3162/7620MB (lfb 4x2MB) SWAP 0/3810MB (cached 0MB) "
                 "CPU [1%@729,0%@729,0%@729,0%@729,off,off] GR3D_FREQ 1% cpu@62.843C "
                 "soc2@61.968C soc0@60.625C gpu@61.687C tj@62.843C soc1@61.687C "
                 "VDD_IN 3913mW/3922mW VDD_CPU_GPU_CV 598mW/598mW VDD_SOC 1238mW/1237mW")

# line -> expected fields (a subset of the parse)
CASES = [
    (TX1_JP3, {"ram_used_mb": 3468, "ram_total_mb": 3983, "swap_used_mb": 873,
               "cpu_load_pct": [17, 13, 29, 5], "cpu_freq_mhz": [408] * 4, "emc_pct": 1,
               "emc_freq_mhz": 408, "gpu_load_pct": 3, "gpu_freq_mhz": [76]}),
    (NANO_JP4, {"ram_used_mb": 1766, "cpu_load_pct": [24, 15, 13, 10], "emc_pct": 0,
                "gpu_load_pct": 0, "power_mw": {"POM_5V_IN": 2545, "POM_5V_GPU": 0,
                                                "POM_5V_CPU": 549},
                "power_avg_mw": {"POM_5V_IN": 2547, "POM_5V_GPU": 0, "POM_5V_CPU": 529}}),
    (XAVIER_NX_JP4, {"swap_used_mb": 1626, "emc_pct": 1, "emc_freq_mhz": 1866,
                     "gpu_load_pct": 0, "gpu_freq_mhz": [114],
                     "cpu_freq_mhz": [1421, 2031, 2034, 1420, 1419, 1420]}),
    (AGX_ORIN_JP5, {"timestamp": "04-11-2025 10:36:27", "ram_total_mb": 62801,
                    "gpu_load_pct": 0, "gpu_freq_mhz": [0, 0], "emc_freq_mhz": 2133}),
    (ORIN_NANO_JP6, {"timestamp": "12-23-2024 22:54:11", "ram_used_mb": 3162,
                     "cpu_load_pct": [1, 0, 0, 0, None, None], "gpu_load_pct": 1,
                     "power_mw": {"VDD_IN": 3913, "VDD_CPU_GPU_CV": 598, "VDD_SOC": 1238},
                     "power_avg_mw": {"VDD_IN": 3922, "VDD_CPU_GPU_CV": 598,
                                      "VDD_SOC": 1237}}),
]


@pytest.mark.parametrize("line, expected", CASES, ids=["tx1-jp3", "nano-jp4", "xaviernx-jp4",
                                                        "agxorin-jp5", "orinnano-jp6"])
def test_parse_recorded_lines(line, expected):
    got = parse_tegrastats(line)
    for key, value in expected.items():
        assert got.get(key) == value, key


def test_temperatures_keep_real_sensors_and_drop_absent_ones():
    nano = parse_tegrastats(NANO_JP4)["temps_c"]
    assert nano["GPU"] == 23.5 and nano["PMIC"] == 100.0
    orin = parse_tegrastats(AGX_ORIN_JP5)["temps_c"]
    assert orin["tj"] == 44.343 and orin["CPU"] == 44.562
    assert "GPU" not in orin and "CV0" not in orin  # -256C: sensor absent on this module
    assert parse_tegrastats(ORIN_NANO_JP6)["temps_c"]["gpu"] == 61.687


def test_memory_figures_are_not_taken_for_power_rails():
    for line, _ in CASES:
        rails = parse_tegrastats(line).get("power_mw", {})
        assert not {"RAM", "SWAP", "IRAM"} & set(rails)


def test_a_line_without_stats_parses_to_nothing():
    assert parse_tegrastats("") == {}
    assert parse_tegrastats("tegrastats: permission denied") == {}


def test_summary_means_and_maxima():
    samples = [parse_tegrastats(ORIN_NANO_JP6),
               parse_tegrastats(ORIN_NANO_JP6.replace("GR3D_FREQ 1%", "GR3D_FREQ 99%")
                                .replace("VDD_IN 3913mW", "VDD_IN 5913mW"))]
    s = summarize_tegrastats(samples)
    assert s["samples"] == 2
    assert s["gpu_load_pct"] == {"mean": 50.0, "max": 99.0}
    assert s["power_mw"]["VDD_IN"] == {"mean": 4913.0, "max": 5913.0}
    assert s["cpu_load_pct"]["max"] == 0.2  # offline cores are not counted as idle ones
    assert s["temps_c"]["tj"]["max"] == 62.8


def _fake_tegrastats(tmp_path, lines):
    """An executable that prints ``lines`` once per --interval, like tegrastats."""
    script = tmp_path / "tegrastats"
    script.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import sys, time
        lines = {lines!r}
        interval = float(sys.argv[sys.argv.index("--interval") + 1]) / 1000
        i = 0
        while True:
            print(lines[i % len(lines)], flush=True)
            i += 1
            time.sleep(interval)
        """))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_sampler_reads_the_tool_and_stops_it(tmp_path):
    binary = _fake_tegrastats(tmp_path, [ORIN_NANO_JP6, XAVIER_NX_JP4])
    with TegrastatsSampler(binary, interval_ms=20) as sampler:
        import time

        deadline = time.monotonic() + 10
        while len(sampler.samples) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert len(sampler.samples) >= 3
    assert sampler._proc.poll() is not None  # terminated on exit
    summary = sampler.summary()
    assert summary["samples"] >= 3 and "error" not in summary
    assert "VDD_IN" in summary["power_mw"]


def test_sampler_reports_a_tool_that_cannot_start(tmp_path):
    missing = os.path.join(str(tmp_path), "no-such-tegrastats")
    with TegrastatsSampler(missing, interval_ms=20) as sampler:
        pass
    summary = sampler.summary()
    assert summary["samples"] == 0
    assert "could not start" in summary["error"]
