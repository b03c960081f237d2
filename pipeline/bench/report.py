"""The benchmark report as Markdown: one comparison table, then stage costs per configuration.

What each FPS column means is stated under the table, because published lane-detection FPS
figures usually leave it out: model-only excludes everything but the network; sequential and
pipelined include reading (decoding) the frame, preprocessing, inference, lane extraction,
drawing the overlay and the sinks.
"""

import json
from pathlib import Path
from typing import List, Optional

from lanecam.pipeline.outputs import check_writable_folder, write_atomic

__all__ = ["to_markdown", "write_json", "write_text", "summary_lines"]


def _f(v, fmt: str = "{:.1f}", none: str = "–") -> str:
    return none if v is None else fmt.format(v)


def _lat(lat: Optional[dict]) -> str:
    if not lat or not lat.get("count"):
        return "–"
    return f"{lat['p50_ms']:.1f} / {lat['p95_ms']:.1f} / {lat['p99_ms']:.1f}"


def _machine_line(m: dict) -> str:
    parts = [f"{m.get('cpu')} ({m.get('cores')} cores)"]
    if m.get("gpus"):
        parts.append("GPU " + ", ".join(m["gpus"]))
    libs = m.get("libraries") or {}
    versions = ", ".join(f"{k} {v}" for k, v in libs.items() if v and k != "lanecam")
    parts.append(versions)
    j = m.get("jetson")
    if j:
        mode = (j.get("nvpmodel") or {}).get("name") or (j.get("nvpmodel") or {}).get("id")
        clocks = {True: "on", False: "off"}.get(j.get("clocks_locked"), "?")
        parts.append(f"Jetson L4T {j.get('l4t')} (JetPack {j.get('jetpack') or '?'}), "
                     f"nvpmodel {mode if mode is not None else '?'}, jetson_clocks {clocks}")
    return "; ".join(p for p in parts if p)


def _fps_cell(r: dict, kind: str) -> str:
    """The (median) FPS, with the range of the repeated runs when there were several."""
    fps = _f(r[kind].get("fps"))
    runs = (r.get("repeats") or {}).get(f"{kind}_fps")
    if runs and len(runs) > 1:
        return f"{fps} (median of {len(runs)}: {min(runs):.1f}-{max(runs):.1f})"
    return fps


def _table(results: List[dict]) -> List[str]:
    head = ("| configuration | precision | model only FPS (batch 1) | model only FPS (batch N) "
            "| sequential FPS | pipelined FPS | speed-up | bound FPS (limit) | efficiency "
            "| latency p50 / p95 / p99 ms | dropped | peak RSS MB | RSS growth KB/frame |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        c = r["config"]
        if "error" in r:
            lines.append(f"| {c['label']} | failed: {r['error']} |" + " |" * 11)
            continue
        mo, seq, pipe, bound = r["model_only"], r["sequential"], r["pipelined"], r["bound"] or {}
        bn = mo.get("batch_n") or {}
        batch = f"{bn['fps']:.1f} (N={bn['size']})" if bn.get("supported") else "–"
        mem = pipe.get("memory") or {}
        limit = f"{_f(bound.get('fps'))} ({bound.get('limited_by', '?')})" if bound else "–"
        lines.append(
            f"| {c['label']} | {c.get('precision', '?')} | {_f(mo.get('fps'))} | {batch} "
            f"| {_fps_cell(r, 'sequential')} | {_fps_cell(r, 'pipelined')} "
            f"| {_f(r.get('speedup'), '{:.2f}x')} "
            f"| {limit} | {_f(r.get('efficiency'), '{:.2f}')} | {_lat(pipe.get('latency_ms'))} "
            f"| {pipe.get('dropped', 0)} | {_f(mem.get('peak_rss_mb'), '{:.0f}')} "
            f"| {_f(mem.get('growth_kb_per_frame'), '{:+.2f}')} |")
    return lines


_STAGE_ROWS = ("source", "preprocess", "infer", "model", "postprocess", "lanes", "overlay",
               "sink")


def _stage_table(r: dict) -> List[str]:
    seq, pipe = r["sequential"]["stages"], r["pipelined"]["stages"]
    lines = ["| stage | sequential mean ms | sequential CPU ms | pipelined p50 ms | p95 ms "
             "| p99 ms |", "|---|---|---|---|---|---|"]
    for name in _STAGE_ROWS:
        s, p = seq.get(name) or {}, (pipe.get(name) or {}).get("wall_ms") or {}
        sw = (s.get("wall_ms") or {}).get("mean_ms")
        if sw is None and not p.get("count"):
            continue
        label = {"model": "(model alone, inside infer)", "lanes": "(lanes, inside postprocess)",
                 "overlay": "(overlay, inside postprocess)"}.get(name, name)
        lines.append(f"| {label} | {_f(sw, '{:.2f}')} | {_f(s.get('cpu_ms_mean'), '{:.2f}')} "
                     f"| {_f(p.get('p50_ms'), '{:.2f}')} | {_f(p.get('p95_ms'), '{:.2f}')} "
                     f"| {_f(p.get('p99_ms'), '{:.2f}')} |")
    return lines


def to_markdown(data: dict) -> str:
    """The report (``BenchReport.data``) as Markdown."""
    inp = data["input"]
    src = f"`{inp['uri']}` ({inp['width']}x{inp['height']}, {data['settings']['frames_per_run']} " \
          f"frames per run, first {data['settings']['warmup']} left out of the statistics)"
    mode = inp.get("live_note") or ("frames as fast as the pipeline takes them, lossless "
                                    "(latency includes frames queued in the rings)")
    out = ["## lanecam bench", "", f"- input: {src}; {inp.get('note', '')}", f"- mode: {mode}",
           f"- machine: {_machine_line(data['machine'])}",
           f"- sinks: {', '.join(data['settings']['sinks'])}; HUD drawn: "
           f"{'yes' if data['settings']['hud'] else 'no'}"]
    if data.get("command"):
        out.append(f"- command: `{data['command']}`")
    for w in data.get("warnings") or []:
        out.append(f"- **warning**: {w}")
    out += [""] + _table(data["results"]) + [""]
    out += ["Model only: the network alone on one preprocessed frame, after warm-up, every call "
            "synchronised. Sequential and pipelined: end to end, frame read (decode) + "
            "preprocess + inference + lane extraction + overlay + sinks, one frame at a time "
            "in one thread vs. the threaded pipeline of `lanecam run`. Latency: capture to "
            "sink, pipelined. Bound: the slower of the slowest stage and all stages' CPU time "
            "spread over the cores (from the sequential run's stage costs); efficiency = "
            "pipelined FPS / bound.", ""]
    for r in data["results"]:
        if "error" in r:
            continue
        cpu = r["pipelined"].get("cpu") or {}
        seq_ms = (r["sequential"].get("cpu") or {}).get("process_ms_per_frame")
        busy = ", ".join(f"{b:.0%}" for b in cpu.get("per_core_busy", []))
        out += [f"### {r['config']['label']}: where the time goes", "",
                f"Engine {r['config'].get('describe')}, model {r['config'].get('model_name')} "
                f"input {r['config'].get('input_shape')}. CPU time per frame: sequential "
                f"{_f(seq_ms, '{:.1f}')} ms, pipelined "
                f"{_f(cpu.get('process_ms_per_frame'), '{:.1f}')} ms. Pipelined: this process "
                f"used {cpu.get('process_cores', 0):.2f} cores, per core busy (everyone) "
                f"{busy or '?'}, other processes {cpu.get('other_cores', 0):.2f} cores.", ""]
        out += _stage_table(r) + [""]
        tegra = r["pipelined"].get("tegrastats")
        if tegra and tegra.get("samples"):
            g = tegra.get("gpu_load_pct") or {}
            p = tegra.get("power_mw") or {}
            rails = ", ".join(f"{k} {v['mean']:.0f} mW" for k, v in p.items() if v)
            emc = (tegra.get("emc_pct") or {}).get("mean", "?")
            out += [f"tegrastats ({tegra['samples']} samples): GPU load mean "
                    f"{g.get('mean', '?')}% max {g.get('max', '?')}%, EMC {emc}%"
                    + (f"; power {rails}" if rails else ""), ""]
    return "\n".join(out)


def summary_lines(data: dict) -> List[str]:
    """A few lines for the terminal."""
    lines = []
    for r in data["results"]:
        c = r["config"]
        if "error" in r:
            lines.append(f"{c['label']}: failed: {r['error']}")
            continue
        b, pipe = r["bound"] or {}, r["pipelined"]
        lines.append(
            f"{c['label']}: model only {_f(r['model_only'].get('fps'))} fps | sequential "
            f"{_f(r['sequential'].get('fps'))} fps | pipelined {_f(pipe.get('fps'))} fps "
            f"({_f(r.get('speedup'), '{:.2f}')}x, bound {_f(b.get('fps'))} by "
            f"{b.get('limited_by')}, efficiency {_f(r.get('efficiency'), '{:.2f}')}) | latency "
            f"p50/p95/p99 {_lat(pipe.get('latency_ms'))} ms | dropped {pipe.get('dropped')}"
            + (f" | median of {r['runs']} runs" if r.get("runs", 1) > 1 else ""))
    return lines


def _writable(path, flag: str) -> Path:
    check_writable_folder(flag, path)
    return Path(path)


def write_json(data: dict, path) -> Path:
    """Write the report as indented JSON (non-finite numbers become null)."""
    from lanecam.pipeline.sinks.jsonl import jsonable

    path = _writable(path, "--json")
    return write_atomic(path, json.dumps(jsonable(data), indent=2, allow_nan=False) + "\n",
                        "--json")


def write_text(text: str, path) -> Path:
    """Write ``text`` (the Markdown report) to ``path``."""
    path = _writable(path, "--markdown")
    return write_atomic(path, text + "\n", "--markdown")
