"""``lanecam bench``: model-only, sequential and pipelined FPS and latency on the same input.

``run_benchmark(BenchSettings(...))`` runs every engine x model x threads configuration and
returns a ``BenchReport`` (JSON-ready ``data``); ``to_markdown`` and ``write_plot`` render it.
The pieces are usable alone: ``machine_info`` (CPU, GPU, libraries, Jetson facts),
``parse_tegrastats`` / ``TegrastatsSampler``, ``theoretical_bound``, the ``/proc`` samplers in
``lanecam.pipeline.bench.resources``.
"""

from lanecam.pipeline.bench.bound import theoretical_bound
from lanecam.pipeline.bench.jetson import jetson_info
from lanecam.pipeline.bench.machine import machine_info
from lanecam.pipeline.bench.plot import write_plot
from lanecam.pipeline.bench.report import summary_lines, to_markdown, write_json, write_text
from lanecam.pipeline.bench.source import DEFAULT_SOURCE, BenchInput
from lanecam.pipeline.bench.suite import BenchReport, BenchSettings, run_benchmark
from lanecam.pipeline.bench.tegrastats import TegrastatsSampler, parse_tegrastats, summarize_tegrastats

__all__ = ["BenchSettings", "BenchReport", "run_benchmark", "BenchInput", "DEFAULT_SOURCE",
           "to_markdown", "summary_lines", "write_json", "write_text", "write_plot",
           "machine_info", "jetson_info", "theoretical_bound", "parse_tegrastats",
           "summarize_tegrastats", "TegrastatsSampler"]
