"""``lanecam batch`` end to end on a local Ray of two CPUs (what CI has)."""

import csv
import json
import sys
import time

import pytest

from lanecam.pipeline.cli import main

from .conftest import decoded_frames, write_video

pq = pytest.importorskip("pyarrow.parquet")


def _batch(capsys, *argv):
    rc = main(["batch", "--quiet", *map(str, argv)])
    return rc, capsys.readouterr().err


def _summary(out):
    with open(out / "summary.csv", newline="") as fh:
        return {row["path"]: row for row in csv.DictReader(fh)}


def _hidden(out):
    """Temporary files left anywhere in the output folder (none may be)."""
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()
                  and (p.name.startswith(".") or ".staging" in p.parts))


def test_the_shared_videos_give_one_row_per_frame_and_a_rerun_skips_them(
        tmp_path, capsys, local_ray, shared_data):
    videos = shared_data / "videos"
    out = tmp_path / "out"
    rc, err = _batch(capsys, videos, "--out", out)
    assert rc == 0, err
    summary = _summary(out)
    assert sorted(summary) == sorted(str(v) for v in videos.glob("*.mp4"))
    for path, row in summary.items():
        assert row["status"] == "done", row
        table = pq.read_table(out / row["lanes_file"])
        # every decoded frame exactly once, in order
        assert table.num_rows == int(row["frames"]) == decoded_frames(path)
        assert table.column("frame_id").to_pylist() == list(range(table.num_rows))
    assert pq.ParquetDataset(out / "lanes").read().num_rows == \
        sum(int(r["frames"]) for r in summary.values())
    assert "3 done" in err and not _hidden(out)

    t0 = time.monotonic()
    rc, err = _batch(capsys, videos, "--out", out)
    took = time.monotonic() - t0
    assert rc == 0, err
    assert {r["status"] for r in _summary(out).values()} == {"skipped"}
    assert took < 10, f"a rerun with everything done took {took:.1f} s"
    assert "3 skipped" in err


def test_a_corrupt_video_is_listed_failed_and_the_others_are_done(tmp_path, capsys, local_ray):
    folder = tmp_path / "drives"
    (folder / "day2" / "frames").mkdir(parents=True)
    good = [write_video(folder / "a.mp4", frames=20), write_video(folder / "day2" / "b.mp4",
                                                                  frames=12)]
    import cv2

    from .conftest import road_frame

    for i in range(5):  # an image folder: one sequence
        cv2.imwrite(str(folder / "day2" / "frames" / f"{i:03d}.jpg"), road_frame(i, 320, 180))
    corrupt = folder / "day2" / "corrupt.mp4"
    corrupt.write_bytes(good[0].read_bytes()[:2000])
    out = tmp_path / "out"
    rc, err = _batch(capsys, folder, tmp_path / "missing.mp4", "--out", out)
    assert rc == 2, err
    summary = _summary(out)
    assert {p: r["status"] for p, r in summary.items()} == {
        str(good[0]): "done", str(good[1]): "done", str(folder / "day2" / "frames"): "done",
        str(corrupt): "failed", str(tmp_path / "missing.mp4"): "failed"}
    assert int(summary[str(folder / "day2" / "frames")]["frames"]) == 5
    assert "not a readable video" in summary[str(corrupt)]["error"]
    lines = err.strip().splitlines()
    assert any(line.startswith(f"lanecam batch: failed: {corrupt}: not a readable video")
               for line in lines)
    assert any(f"failed: {tmp_path / 'missing.mp4'}: no such file" in line for line in lines)
    assert not _hidden(out)

    # the rerun redoes only what is not done: the corrupt video fails again, exit 2 again
    rc, err = _batch(capsys, folder, "--out", out)
    assert rc == 2
    assert sorted(r["status"] for r in _summary(out).values()) == \
        ["failed", "skipped", "skipped", "skipped"]


def test_force_redoes_and_videos_jsonl_match_the_rows(tmp_path, capsys, local_ray):
    video = write_video(tmp_path / "drive.mp4", frames=16)
    out = tmp_path / "out"
    assert _batch(capsys, video, "--out", out)[0] == 0
    rc, err = _batch(capsys, video, "--out", out, "--videos", "--jsonl")
    assert rc == 0, err
    row = next(iter(_summary(out).values()))
    assert row["status"] == "done"  # asked for outputs it did not have: redone, not skipped
    vid = row["video_id"]
    lines = (out / "jsonl" / f"{vid}.jsonl").read_text().splitlines()
    assert [json.loads(x)["frame_id"] for x in lines] == list(range(16))
    assert decoded_frames(out / "videos" / f"{vid}.mp4") == 16
    assert _batch(capsys, video, "--out", out, "--videos")[0] == 0
    assert next(iter(_summary(out).values()))["status"] == "skipped"
    assert _batch(capsys, video, "--out", out, "--force")[0] == 0
    assert next(iter(_summary(out).values()))["status"] == "done"
    ledger = [json.loads(x) for x in (out / "_ledger.jsonl").read_text().splitlines()]
    assert len(ledger) == 3 and pq.read_table(out / "lanes" / f"{vid}.parquet").num_rows == 16


def test_a_damaged_video_is_recorded_and_not_redone_unless_changed_or_forced(
        tmp_path, capsys, local_ray):
    """A cut video keeps the frames before the cut and is damaged; its ledger line keeps the
    damage, so a rerun lists it as damaged again (exit 2) without decoding it again."""
    from .conftest import write_cut_video

    cut = write_cut_video(tmp_path / "cut.mp4")
    out = tmp_path / "out"
    rc, err = _batch(capsys, cut, "--out", out)
    assert rc == 2, err
    row = _summary(out)[str(cut)]
    assert row["status"] == "damaged" and int(row["frames"]) > 0, row
    ledger = out / "_ledger.jsonl"
    entries = [json.loads(x) for x in ledger.read_text().splitlines()]
    assert [e["summary"]["status"] for e in entries] == ["damaged"]
    assert entries[0]["summary"]["error"] == row["error"]
    parquet = out / row["lanes_file"]
    made = parquet.stat().st_mtime_ns

    rc, err = _batch(capsys, cut, "--out", out)
    assert rc == 2, err
    again = _summary(out)[str(cut)]
    assert (again["status"], again["frames"], again["error"]) == ("damaged", row["frames"],
                                                                  row["error"])
    assert "1 damaged; 0 frames processed" in err
    assert f"damaged (recorded by an earlier run, not redone; --force redoes it): {cut}" in err
    assert len(ledger.read_text().splitlines()) == 1 and parquet.stat().st_mtime_ns == made

    assert _batch(capsys, cut, "--out", out, "--force")[0] == 2   # --force: decoded again
    assert len(ledger.read_text().splitlines()) == 2
    with open(cut, "ab") as fh:                                   # the file changed: again
        fh.write(b"\0" * 100)
    assert _batch(capsys, cut, "--out", out)[0] == 2
    assert len(ledger.read_text().splitlines()) == 3


def test_a_model_that_cannot_load_stops_the_job_in_one_line(tmp_path, capsys, local_ray):
    model = tmp_path / "broken.onnx"
    model.write_bytes(b"this is no ONNX model")
    rc, err = _batch(capsys, write_video(tmp_path / "v.mp4", frames=4), "--out",
                     tmp_path / "out", "--model", model)
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lanecam batch: error: ")
    assert str(model) in lines[0]


@pytest.mark.parametrize("argv, match", [
    (["--out", "OUT"], "no INPUT given"),
    (["in.mp4"], "no --out DIR given"),
    (["in.mp4", "--out", "OUT", "--cpus-per-task", "0"], "--cpus-per-task expects a value"),
    (["in.mp4", "--out", "OUT", "--max-concurrency", "0"], "--max-concurrency expects a value"),
    (["in.mp4", "--out", "FILE"], "is a file, expected a folder"),
    (["in.mp4", "--out", "NOPARENT"], "does not exist"),
    (["NOTHING", "--out", "OUT"], "nothing to process: "),
    (["in.mp4", "--out", "OUT", "--model", "nope.onnx"], "--model nope.onnx: no such file"),
])
def test_bad_usage_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, argv, match):
    monkeypatch.chdir(tmp_path)
    write_video(tmp_path / "in.mp4", frames=2)
    (tmp_path / "FILE").write_text("x")
    argv = [a.replace("NOPARENT", str(tmp_path / "no" / "out")) for a in argv]
    rc, err = _batch(capsys, *argv)
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and match in lines[0], err


def test_a_second_job_on_the_same_output_folder_is_refused(tmp_path, capsys):
    pytest.importorskip("ray")
    fcntl = pytest.importorskip("fcntl")
    from lanecam.pipeline.batch.app import LOCK_NAME

    video = write_video(tmp_path / "a.mp4", frames=4)
    out = tmp_path / "out"
    out.mkdir()
    with open(out / LOCK_NAME, "a") as held:      # the first job, still running
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        rc, err = _batch(capsys, video, "--out", out)
    assert rc == 2
    assert "another lanecam batch is writing to this folder" in err and str(out) in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]   # nothing written


def test_without_ray_the_command_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # "import ray" now fails as if absent
    rc, err = _batch(capsys, write_video(tmp_path / "v.mp4", frames=2), "--out", tmp_path / "o")
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1
    assert 'pip install "lanecam[batch]"' in lines[0]


def test_a_config_file_gives_the_options(tmp_path, capsys, local_ray):
    video = write_video(tmp_path / "v.mp4", frames=6)
    cfg = tmp_path / "batch.toml"
    cfg.write_text(f'out = "{tmp_path / "out"}"\njsonl = true\nmax-concurrency = 1\n')
    rc, err = _batch(capsys, video, "--config", cfg)
    assert rc == 0, err
    assert len(list((tmp_path / "out" / "jsonl").glob("*.jsonl"))) == 1
    cfg.write_text('out = "x"\nworkers = 4\n')
    rc, err = _batch(capsys, video, "--config", cfg)
    assert rc == 2 and "unknown key 'workers'" in err and len(err.strip().splitlines()) == 1


def test_the_help_and_every_batch_module_load_without_ray_or_pyarrow():
    import subprocess

    code = ("import importlib, pkgutil, sys\n"
            "import lanecam.pipeline.batch as b, lanecam.pipeline.cli as cli\n"
            "cli._build_parser()\n"
            "for m in pkgutil.walk_packages(b.__path__, 'lanecam.pipeline.batch.'):\n"
            "    importlib.import_module(m.name)\n"
            "print(sorted(m for m in ('ray', 'pyarrow') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
