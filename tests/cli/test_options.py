"""Typed command configs: the flags and the config-file checks come from one dataclass."""

import argparse
import dataclasses

import pytest

from lanecam.pipeline.cli.bench import BenchConfig
from lanecam.pipeline.cli.run_config import RunConfig, load_run_config
from lanecam.pipeline.errors import InputError
from lanecam.pipeline.options import add_flags, load_config, max_threads


def _parse(config_cls, *argv):
    parser = argparse.ArgumentParser()
    add_flags(parser, config_cls)
    return parser.parse_args([str(a) for a in argv])


@pytest.mark.parametrize("config_cls", [RunConfig, BenchConfig])
def test_every_field_is_a_flag_and_a_config_key(config_cls, tmp_path):
    args = _parse(config_cls)
    names = {f.name for f in dataclasses.fields(config_cls)}
    assert names <= set(vars(args))  # one flag per field, defaults filled later
    assert all(getattr(args, n) is None for n in names)
    cfg = tmp_path / "c.toml"
    cfg.write_text("".join(f"{n.replace('_', '-')} = {_toml(f)}\n"
                           for n, f in ((f.name, f) for f in dataclasses.fields(config_cls))
                           if f.default is not None))
    config = load_config(config_cls, _parse(config_cls, "--config", cfg))
    assert config == config_cls()  # the defaults written back read as the defaults


def _toml(f):
    v = f.default
    return str(v).lower() if isinstance(v, bool) else repr(v) if isinstance(v, str) else str(v)


def test_command_line_beats_config_file_beats_default(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('source = "a.mp4"\nlanes-format = "tusimple"\nthreads = 1\n')
    config = load_run_config(_parse(RunConfig, "b.mp4", "--config", cfg))
    assert (config.source, config.lanes_format, config.threads) == ("b.mp4", "tusimple", 1)
    assert config.engine == "auto"


@pytest.mark.parametrize("argv, body, match", [
    ([], "threads = 100000\n", "--threads expects a value between 1 and"),
    (["--threads", "100000"], "", "--threads expects a value between 1 and"),
    (["--threads", "0"], "", "--threads expects a value between 1"),
    ([], "threads = true\n", "--threads expects an integer"),
    ([], "display = 1\n", "--display expects true or false"),
    ([], 'engine = "cuda"\n', "--engine expects one of auto, onnxruntime"),
    ([], "bogus = 1\n", "unknown key 'bogus'"),
    ([], 'h-samples = "0:100000000:1"\n', "expected at most 4320 rows"),
])
def test_bad_values_are_refused_naming_the_flag(tmp_path, argv, body, match):
    cfg = tmp_path / "c.toml"
    cfg.write_text('source = "in.mp4"\n' + body)
    with pytest.raises(InputError, match=match):
        load_run_config(_parse(RunConfig, *argv, "--config", cfg))


def test_preview_takes_a_port_number_or_text(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('source = "x"\npreview = 8080\n')
    assert load_run_config(_parse(RunConfig, "--config", cfg)).preview == "8080"


def test_bench_takes_a_config_file_and_bounds_its_numbers(tmp_path):
    cfg = tmp_path / "b.toml"
    cfg.write_text('frames = 20\nengine = "onnxruntime"\nthreads = 1\n')
    config = load_config(BenchConfig, _parse(BenchConfig, "--config", cfg))
    assert (config.frames, config.engine, config.threads) == (20, "onnxruntime", "1")
    with pytest.raises(InputError, match="--batch expects a value between 1 and 256"):
        load_config(BenchConfig, _parse(BenchConfig, "--batch", 100000))


def test_thread_bound_follows_the_cores():
    assert max_threads() >= 4


def _float_options():
    """(command, flag, action) of every option of every ``lanecam`` subcommand whose argparse
    type turns "0.5" into a float: the float options, found by walking the parsers."""
    from lanecam.pipeline.cli import _build_parser

    parser = _build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found = []
    for command, p in sub.choices.items():
        for action in p._actions:
            if action.type is None:
                continue
            try:
                value = action.type("0.5")
            except (TypeError, ValueError, argparse.ArgumentTypeError, InputError):
                continue
            if isinstance(value, float):
                found.append((command, action.option_strings[-1] if action.option_strings
                              else action.dest, action))
    return found


def test_every_float_option_of_every_command_refuses_nan_and_infinities():
    found = _float_options()
    flags = {(c, f) for c, f, _ in found}
    # the walk sees the options of every kind of declaration (option(), add_argument)
    assert {("batch", "--cpus-per-task"), ("bench", "--seconds"), ("run", "--read-timeout"),
            ("train", "--lr"), ("evaluate", "--threshold"), ("export", "--atol"),
            ("birdseye", "--lane-width"), ("convolutionalize", "--scale")} <= flags, flags
    for command, flag, action in found:
        assert action.type("0.25") == 0.25     # in the bounds of every float option
        for text in ("nan", "NaN", "inf", "-inf", "Infinity", "1e999"):
            with pytest.raises(argparse.ArgumentTypeError, match="finite number"):
                action.type(text)


def test_a_nan_option_is_one_argparse_line_and_exit_2(capsys):
    from lanecam.pipeline.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["batch", "in.mp4", "--out", "out", "--cpus-per-task", "nan"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --cpus-per-task: expected a finite number, got 'nan'" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("body", ["cpus-per-task = nan\n", "cpus-per-task = inf\n",
                                  "gpus-per-task = -inf\n"])
def test_a_config_file_nan_or_infinity_is_refused_naming_the_key(tmp_path, body):
    from lanecam.pipeline.cli.batch import BatchConfig

    cfg = tmp_path / "b.toml"
    cfg.write_text(body)
    with pytest.raises(InputError, match=r"per-task expects a finite number, got (nan|-?inf)"):
        load_config(BatchConfig, _parse(BatchConfig, "--config", cfg))


def test_integer_bounds_are_refused_when_the_command_line_is_parsed():
    from lanecam.pipeline.options import SEED, int_at_least

    assert int_at_least(0)("0") == 0 and int_at_least(1, 3)("3") == 3
    assert SEED("0") == 0 and SEED(str(2**32 - 1)) == 2**32 - 1
    for parse, text, match in ((int_at_least(1), "0", "expected 1 or more, got 0"),
                               (int_at_least(0, 200), "201", "expected 0 to 200, got 201"),
                               (int_at_least(0), "1.5", "expected an integer"),
                               (SEED, "-1", "expected 0 to 4294967295, got -1"),
                               (SEED, str(2**32), "expected 0 to 4294967295")):
        with pytest.raises(argparse.ArgumentTypeError, match=match):
            parse(text)


def test_every_seed_option_of_every_command_refuses_a_negative_seed():
    """numpy refuses negative seeds with a traceback deep inside the run (round 3)."""
    from lanecam.pipeline.cli import _build_parser

    parser = _build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    seeds = [(command, action) for command, p in sub.choices.items() for action in p._actions
             if "--seed" in action.option_strings]
    assert {c for c, _ in seeds} >= {"train", "evaluate"}, seeds
    for command, action in seeds:
        with pytest.raises(argparse.ArgumentTypeError):
            action.type("-1")
