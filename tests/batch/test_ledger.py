"""The done-ledger: what a rerun may skip (no Ray needed)."""

import os

from lanecam.pipeline.batch.inputs import discover
from lanecam.pipeline.batch.ledger import Ledger, model_identity, video_key


def _job(tmp_path, data=b"video"):
    path = tmp_path / "in" / "drive.mp4"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return discover([str(path)])[0][0]


def _done(tmp_path, job, model="sha256:m1"):
    out = tmp_path / "out"
    (out / "lanes").mkdir(parents=True, exist_ok=True)
    (out / "lanes" / f"{job.video_id}.parquet").write_bytes(b"PAR1")
    ledger = Ledger(out)
    ledger.record(video_key(job, model), {"lanes": f"lanes/{job.video_id}.parquet"},
                  {"frames": 3})
    return out


def test_a_recorded_video_is_done_for_the_same_file_and_model(tmp_path):
    job = _job(tmp_path)
    out = _done(tmp_path, job)
    entry = Ledger(out).load().done(video_key(job, "sha256:m1"), ["lanes"])
    assert entry is not None and entry["summary"] == {"frames": 3}


def test_another_size_mtime_or_model_is_not_done(tmp_path):
    job = _job(tmp_path)
    out = _done(tmp_path, job)
    ledger = Ledger(out).load()
    assert ledger.done(video_key(job, "sha256:other"), ["lanes"]) is None
    os.utime(job.path, ns=(job.mtime_ns + 10**9, job.mtime_ns + 10**9))
    touched = discover([job.path])[0][0]
    assert ledger.done(video_key(touched, "sha256:m1"), ["lanes"]) is None
    with open(job.path, "ab") as fh:
        fh.write(b"more")
    grown = discover([job.path])[0][0]
    assert grown.size != job.size and ledger.done(video_key(grown, "sha256:m1"), ["lanes"]) is None


def test_outputs_asked_for_now_or_deleted_since_are_redone(tmp_path):
    job = _job(tmp_path)
    out = _done(tmp_path, job)
    ledger = Ledger(out).load()
    assert ledger.done(video_key(job, "sha256:m1"), ["lanes", "videos"]) is None
    (out / "lanes" / f"{job.video_id}.parquet").unlink()
    assert ledger.done(video_key(job, "sha256:m1"), ["lanes"]) is None


def test_a_line_cut_short_by_a_crash_is_ignored_and_the_latest_line_wins(tmp_path):
    job = _job(tmp_path)
    out = _done(tmp_path, job)
    ledger = Ledger(out)
    ledger.record(video_key(job, "sha256:m2"), {"lanes": f"lanes/{job.video_id}.parquet"},
                  {"frames": 4})
    with open(ledger.path, "a") as fh:
        fh.write('{"key": {"path": "/cut')
    loaded = Ledger(out).load()
    assert loaded.done(video_key(job, "sha256:m1"), ["lanes"]) is None
    assert loaded.done(video_key(job, "sha256:m2"), ["lanes"])["summary"] == {"frames": 4}


def test_the_model_identity_follows_the_bytes_not_the_name(tmp_path):
    a, b = tmp_path / "a.onnx", tmp_path / "b.onnx"
    a.write_bytes(b"model one")
    b.write_bytes(b"model one")
    calib = tmp_path / "cam.json"
    calib.write_text("{}")
    base = model_identity(str(a), "auto")
    assert model_identity(str(b), "auto") == base
    assert model_identity(str(a), "onnxruntime") != base
    assert model_identity(str(a), "auto", calibration=str(calib)) != base
    # a --crop-top changes the lanes, so it is another identity; without one, the identity of
    # a job made before the option existed
    assert model_identity(str(a), "auto", crop_top=0.1) not in (base, model_identity(
        str(a), "auto", crop_top=0.2))
    assert model_identity(str(a), "auto", crop_top=None) == base
    # --crop-top auto is another identity again (its crop is set per video)
    assert model_identity(str(a), "auto", crop_top="auto") not in (
        base, model_identity(str(a), "auto", crop_top=0.1))
    a.write_bytes(b"model two")
    assert model_identity(str(a), "auto") != base
