"""One batch worker without Ray: one row per frame, outputs whole or absent, the model loaded
once, every video starting from fresh smoothing state."""

from dataclasses import replace
from pathlib import Path

import pytest

from lanecam.pipeline.batch.inputs import discover
from lanecam.pipeline.batch.layout import Layout
from lanecam.pipeline.batch.worker import VideoWorker, WorkerOptions
from lanecam.pipeline.detector import DetectorConfig

from .conftest import decoded_frames, write_cut_video, write_video

pq = pytest.importorskip("pyarrow.parquet")


def _worker(out, **kw):
    out.mkdir(exist_ok=True)
    options = WorkerOptions(out=str(out), detector=DetectorConfig(threads=1),
                            model_id="sha256:test", **kw)
    Layout(out).make_folders(["lanes", "videos", "jsonl"])
    return VideoWorker(options)


def _job(path):
    jobs, bad = discover([str(path)])
    assert not bad
    return jobs[0]


def _files(out):
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())


class Board:
    """A local progress board that remembers what it heard."""

    def __init__(self):
        self.events = []

    def started(self, video_id, pid):
        self.events.append(("started", video_id))

    def progress(self, video_id, frames):
        self.events.append(("progress", frames))


def test_a_video_becomes_one_row_per_decoded_frame(tmp_path):
    video = write_video(tmp_path / "drive.mp4", frames=30)
    worker, board = _worker(tmp_path / "out"), Board()
    job = _job(video)
    summary = worker.process(job, board)
    assert summary["status"] == "done", summary["error"]
    table = pq.read_table(tmp_path / "out" / summary["outputs"]["lanes"])
    assert summary["frames"] == table.num_rows == decoded_frames(video) == 30
    assert table.column("frame_id").to_pylist() == list(range(30))
    assert table.column("timestamp_s").to_pylist() == pytest.approx([i / 25 for i in range(30)])
    assert set(table.column("video_id").to_pylist()) == {job.video_id}
    assert table.schema.metadata[b"lanecam.model"] == b"sha256:test"
    assert float(table.schema.metadata[b"lanecam.crop_top"]) == worker.base.spec.crop_top
    assert summary["duration_s"] == pytest.approx(1.2)
    assert 0.0 <= summary["ego_share"] <= 1.0 and summary["departure_events"] is None
    assert _files(tmp_path / "out") == [f"lanes/{job.video_id}.parquet"]  # nothing hidden left
    assert board.events[0] == ("started", job.video_id) and board.events[-1] == ("progress", 30)


def test_videos_and_json_lines_hold_the_same_frames_as_the_rows(tmp_path):
    import json

    video = write_video(tmp_path / "drive.mp4", frames=20)
    summary = _worker(tmp_path / "out", videos=True, jsonl=True).process(_job(video))
    assert summary["status"] == "done", summary["error"]
    out = tmp_path / "out"
    lines = (out / summary["outputs"]["jsonl"]).read_text().splitlines()
    assert [json.loads(line)["frame_id"] for line in lines] == list(range(20))
    assert decoded_frames(out / summary["outputs"]["videos"]) == 20
    assert pq.read_table(out / summary["outputs"]["lanes"]).num_rows == 20


def test_a_corrupt_video_fails_with_its_reason_and_leaves_no_file(tmp_path):
    bad = tmp_path / "corrupt.mp4"
    bad.write_bytes(write_video(tmp_path / "ok.mp4").read_bytes()[:3000])
    summary = _worker(tmp_path / "out", jsonl=True).process(_job(bad))
    assert summary["status"] == "failed" and summary["error_kind"] == "input"
    assert summary["error"].startswith(str(bad)) and "\n" not in summary["error"]
    assert _files(tmp_path / "out") == []


def test_a_cut_video_keeps_the_frames_before_the_cut_and_says_so(tmp_path):
    video = write_cut_video(tmp_path / "cut.mp4")
    summary = _worker(tmp_path / "out").process(_job(video))
    assert summary["status"] == "damaged" and summary["error_kind"] == "input"
    assert "truncated" in summary["error"] and str(video) in summary["error"]
    rows = pq.read_table(tmp_path / "out" / summary["outputs"]["lanes"]).num_rows
    assert 0 < rows == summary["frames"] < 40


def test_what_a_killed_attempt_left_is_removed_by_the_next(tmp_path):
    video = write_video(tmp_path / "drive.mp4", frames=10)
    job = _job(video)
    out = tmp_path / "out"
    worker = _worker(out, jsonl=True)
    stale = [out / ".staging" / "lanes" / f"{job.video_id}.staging-99999.parquet",
             out / ".staging" / "jsonl" / f".{job.video_id}.staging-99999.partial-99999.jsonl"]
    for path in stale:
        path.write_text("half")
    other = out / ".staging" / "lanes" / "another-1234abcd.staging-99999.parquet"
    other.write_text("half")
    summary = worker.process(job)
    assert summary["status"] == "done"
    assert not any(p.exists() for p in stale) and other.exists()
    assert sorted(summary["outputs"]) == ["jsonl", "lanes"]


def test_the_model_is_opened_once_for_many_videos(tmp_path):
    worker = _worker(tmp_path / "out")
    inner = worker.base.engine
    opened = []
    real_open = inner._open

    def counting_open():
        opened.append(1)
        real_open()

    inner._open = counting_open
    for i in range(3):
        video = write_video(tmp_path / f"v{i}.mp4", frames=8)
        assert worker.process(_job(video))["status"] == "done"
    assert len(opened) == 1 and inner.is_open
    worker.close()
    assert not inner.is_open


def test_a_model_that_cannot_load_fails_every_video_with_one_line(tmp_path):
    model = tmp_path / "broken.onnx"
    model.write_bytes(b"not a model")
    out = tmp_path / "out"
    out.mkdir()
    options = WorkerOptions(out=str(out), detector=DetectorConfig(model=str(model)),
                            model_id="x")
    summary = VideoWorker(options).process(_job(write_video(tmp_path / "v.mp4", frames=4)))
    assert summary["setup_failed"] and summary["status"] == "failed"
    assert str(model) in summary["error"] and "\n" not in summary["error"]


def test_each_video_starts_from_fresh_smoothing_state(tmp_path, shared_data):
    """Geometry smoothing and lane-departure state are per video: the same video gives the
    same rows whether or not another video of its size went through the worker before."""
    import lanecam.calibration

    calibration = str(Path(lanecam.calibration.__file__).parent / "profiles" / "udacity.json")
    out = tmp_path / "out"
    worker = _worker(out)
    worker = VideoWorker(replace(worker.options, detector=DetectorConfig(
        threads=1, calibration=calibration)))
    real = _job(shared_data / "videos" / "udacity_vehicle_test.mp4")
    first = worker.process(real)
    assert first["status"] == "done" and first["departure_events"] is not None
    rows_first = pq.read_table(out / first["outputs"]["lanes"]).to_pylist()
    other = worker.process(_job(write_video(tmp_path / "hd.mp4", frames=15, width=1280,
                                            height=720)))
    assert other["status"] == "done"
    again = worker.process(real)
    rows_again = pq.read_table(out / again["outputs"]["lanes"]).to_pylist()
    assert any(r["geometry"]["valid"] for r in rows_first)
    assert [(r["lanes"], r["geometry"]) for r in rows_again] == \
        [(r["lanes"], r["geometry"]) for r in rows_first]


def test_a_video_whose_name_holds_an_exclamation_mark_is_a_video(tmp_path):
    """Issue 25 #10: ``wow!.mp4`` was taken for a GStreamer pipeline ("... ! ...")."""
    video = write_video(tmp_path / "wow!.mp4", frames=5)
    summary = _worker(tmp_path / "out").process(_job(video), Board())
    assert summary["status"] == "done", summary["error"]
    assert summary["frames"] == 5


def test_crop_top_auto_is_written_as_auto(tmp_path):
    """Under ``--crop-top auto`` each video sets its own crop, so the Parquet file says so."""
    video = write_video(tmp_path / "drive.mp4", frames=12)
    out = tmp_path / "out"
    out.mkdir()
    options = WorkerOptions(out=str(out), detector=DetectorConfig(threads=1, crop_top="auto"),
                            model_id="sha256:test")
    Layout(out).make_folders(["lanes"])
    summary = VideoWorker(options).process(_job(video))
    assert summary["status"] == "done", summary["error"]
    table = pq.read_table(next((out / "lanes").glob("*.parquet")))
    assert table.num_rows == 12
    assert table.schema.metadata[b"lanecam.crop_top"] == b"auto"
