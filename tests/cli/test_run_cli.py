"""``lanecam run``: end to end on a small video, config files, bad input -> one line + exit 2."""

import json
import sys

import numpy as np
import pytest

from lanecam.pipeline.cli import main


def _run(capsys, *argv):
    rc = main(["run", *map(str, argv)])
    err = capsys.readouterr().err
    return rc, err


def _frames_in(path):
    av = pytest.importorskip("av")
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(c.streams.video[0]))


def test_file_run_writes_every_frame_in_order(tmp_path, capsys, small_video, tiny_model):
    out, lanes, stats = tmp_path / "out.mp4", tmp_path / "lanes.jsonl", tmp_path / "stats.json"
    rc, err = _run(capsys, small_video, "--model", tiny_model, "-o", out, "--lanes", lanes,
                   "--stats", stats, "--threads", 1)
    assert rc == 0, err
    assert _frames_in(out) == 24
    ids = [json.loads(line)["frame_id"] for line in lanes.read_text().splitlines()]
    assert ids == list(range(24))
    summary = json.loads(stats.read_text())
    assert summary["frames"] == 24 and summary["dropped"] == 0
    assert {"source", "preprocess", "infer", "postprocess", "sink", "model"} <= set(summary["stages"])
    assert summary["engine"].startswith("onnxruntime/")
    assert "24 frames" in err


def test_config_file_supplies_flags_and_the_command_line_wins(tmp_path, capsys, small_video,
                                                              tiny_model):
    lanes = tmp_path / "a.jsonl"
    cfg = tmp_path / "run.toml"
    cfg.write_text(f'source = "{small_video}"\nmodel = "{tiny_model}"\nlanes = "{lanes}"\n'
                   f'lanes-format = "tusimple"\nh_samples = "0:96:8"\nquiet = true\n')
    rc, err = _run(capsys, "--config", cfg)
    assert rc == 0, err
    first = json.loads(lanes.read_text().splitlines()[0])
    assert first["h_samples"] == list(range(0, 96, 8))
    other = tmp_path / "b.jsonl"
    rc, err = _run(capsys, "--config", cfg, "--lanes", other, "--lanes-format", "native")
    assert rc == 0, err
    assert "frame_id" in json.loads(other.read_text().splitlines()[0])


@pytest.mark.parametrize("body, match", [
    ('colour = "red"\n', "unknown key 'colour'"),
    ('threads = "two"\n', "--threads expects an integer"),
    ('display = 1\n', "--display expects true or false"),
    ('engine = "openvino"\n', "--engine expects one of"),
    ('source = [\n', "not valid TOML"),
    (b'source = "caf\xe9.mp4"\n', "not UTF-8 text: byte 0xe9 at offset 13"),
])
def test_bad_config_is_one_line_exit_2(tmp_path, capsys, body, match):
    cfg = tmp_path / "bad.toml"
    cfg.write_bytes(body if isinstance(body, bytes) else body.encode())
    rc, err = _run(capsys, "in.mp4", "--config", cfg)
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and match in lines[0] and str(cfg) in lines[0]


def test_config_is_read_with_tomli_where_tomllib_is_missing(tmp_path, capsys, monkeypatch):
    pytest.importorskip("tomli")
    monkeypatch.setitem(sys.modules, "tomllib", None)  # as on Python 3.8-3.10
    cfg = tmp_path / "run.toml"
    cfg.write_text('threads = "two"\n')
    rc, err = _run(capsys, "in.mp4", "--config", cfg)
    assert rc == 2 and "--threads expects an integer" in err
    cfg.write_text("source = [\n")
    rc, err = _run(capsys, "in.mp4", "--config", cfg)
    assert rc == 2 and "not valid TOML" in err


def _not_onnx(tmp_path, tinymodels):
    p = tmp_path / "model.onnx"
    p.write_text("definitely not a protobuf\n" * 20)
    return p


def _mismatch(tmp_path, tinymodels):
    p = tmp_path / "mismatch.onnx"
    tinymodels.make_model(p, tinymodels.tiny_spec(), input_name="input_1", embed_spec=False)
    tinymodels.tiny_spec().save(tmp_path / "mismatch.spec.json")
    return p


def _missing_model(tmp_path, tinymodels):
    return tmp_path / "nothing.onnx"


@pytest.mark.parametrize("make_model, match", [
    (_not_onnx, "not a loadable ONNX model"),
    (_mismatch, "input is named 'input_1', the ModelSpec expects 'image'"),
    (_missing_model, "model file not found"),
])
def test_bad_model_is_one_line_exit_2(tmp_path, capsys, small_video, tinymodels, make_model,
                                      match):
    model = make_model(tmp_path, tinymodels)
    rc, err = _run(capsys, small_video, "--model", model, "--quiet")
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert match in lines[0] and str(model) in lines[0]
    assert "Traceback" not in err


def test_bad_sources_are_one_line_exit_2(tmp_path, capsys, tiny_model):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n")
    empty_dir = tmp_path / "frames"
    empty_dir.mkdir()
    for source in (tmp_path / "missing.mp4", text, empty_dir):
        rc, err = _run(capsys, source, "--model", tiny_model, "--quiet")
        assert rc == 2, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and str(source) in lines[0], err


def test_truncated_video_keeps_its_frames_and_exits_2(tmp_path, capsys, tiny_model):
    """A cut-off mp4 whose index survives: every decodable frame is processed and written, then
    one line names the file and the shortfall, exit 2."""
    av = pytest.importorskip("av")
    path = tmp_path / "cut.mp4"
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for i in range(40):
            img = np.full((64, 96, 3), (i * 6) % 256, np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="bgr24")))
        out.mux(stream.encode(None))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 6 // 10])
    lanes = tmp_path / "lanes.jsonl"
    rc, err = _run(capsys, path, "--model", tiny_model, "--lanes", lanes, "--quiet")
    assert rc == 2, err
    ids = [json.loads(line)["frame_id"] for line in lanes.read_text().splitlines()]
    assert 0 < len(ids) < 40 and ids == list(range(len(ids)))
    # (its flat frames also get the "no road" trust warning, once; not what this test is about)
    lines = [line for line in err.strip().splitlines() if "warning:" not in line]
    assert len(lines) == 1, err
    assert str(path) in lines[0] and f"ended at frame {len(ids)} of 40" in lines[0]


@pytest.mark.parametrize("argv, match", [
    ([], "no SOURCE given"),
    (["x.mp4", "--h-samples", "10:5:1"], "--h-samples"),
    (["x.mp4", "--threads", "0"], "--threads"),
])
def test_usage_errors_exit_2(capsys, argv, match):
    rc, err = _run(capsys, *argv)
    assert rc == 2 and match in err


def test_bad_output_folder_is_reported_before_the_run(tmp_path, capsys, small_video, tiny_model):
    out = tmp_path / "no" / "such" / "dir" / "out.mp4"
    rc, err = _run(capsys, small_video, "--model", tiny_model, "-o", out, "--quiet")
    assert rc == 2 and str(tmp_path / "no") in err


def test_a_video_whose_name_holds_an_exclamation_mark_is_a_file(tmp_path, capsys, tiny_model):
    """Issue 25 #10: an existing file is a file, not a GStreamer pipeline ("a ! b")."""
    from conftest import write_video

    video = write_video(tmp_path / "wow!.mp4", frames=4)
    lanes = tmp_path / "lanes.jsonl"
    rc, err = _run(capsys, video, "--model", tiny_model, "--lanes", lanes, "--quiet")
    assert rc == 0, err
    assert len(lanes.read_text().splitlines()) == 4


def test_a_pipeline_is_still_a_pipeline():
    from lanecam.pipeline.sources.registry import find_plugin

    assert find_plugin("videotestsrc num-buffers=3 ! videoconvert ! appsink").name == "gstreamer"
