"""``lanecam batch`` on ROS bags and MCAP files: found in folders (a ROS 2 bag folder is one
input), one Parquet row per message with its recorded time, one MCAP file per input with
``--mcap``; a depth-only bag fails alone with its one-line reason."""

import csv

import pytest

from lanecam.pipeline.batch.inputs import discover
from lanecam.pipeline.batch.layout import Layout
from lanecam.pipeline.batch.worker import VideoWorker, WorkerOptions
from lanecam.pipeline.cli import main
from lanecam.pipeline.detector import DetectorConfig
from lanecam.pipeline.sinks.foxglove_msgs import TOPICS
from tests.sinks.foxglove_client import read_mcap
from tests.sources.robotics_media import (STEP_NS, stamp, write_foxglove_mcap, write_ros1_bag,
                                          write_ros2_bag)

from .conftest import write_video

pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("mcap")
pytest.importorskip("rosbags")
pytest.importorskip("foxglove")


def _archive(root, frames=4):
    """A folder of drives in every recording format, and one video."""
    root.mkdir()
    write_ros2_bag(root / "day1" / "front_bag", frames, "bayer_rggb8")
    write_ros2_bag(root / "day1" / "rear_bag", frames, "jpeg", storage="mcap")
    write_ros1_bag(root / "day2.bag", frames, "rgb8")
    write_foxglove_mcap(root / "day3.mcap", frames)
    write_video(root / "old.mp4", frames=frames)
    return root


def test_bags_and_mcap_files_are_found_as_inputs(tmp_path):
    root = _archive(tmp_path / "drives")
    jobs, bad = discover([str(root)])
    assert not bad
    found = {(j.path[len(str(root)) + 1:], j.kind) for j in jobs}
    # the bag folders are one input each: their .db3/.mcap storage files are not
    assert found == {("day1/front_bag", "recording"), ("day1/rear_bag", "recording"),
                     ("day2.bag", "recording"), ("day3.mcap", "recording"),
                     ("old.mp4", "video")}
    bag = root / "day1" / "front_bag"
    jobs, bad = discover([str(bag)])
    assert [j.path for j in jobs] == [str(bag)] and jobs[0].size > 0


def test_a_worker_writes_rows_and_an_mcap_file_per_bag(tmp_path):
    bag = write_ros2_bag(tmp_path / "bag", 5, "rgb8")
    out = tmp_path / "out"
    out.mkdir()
    Layout(out).make_folders(["lanes", "mcap"])
    worker = VideoWorker(WorkerOptions(out=str(out), detector=DetectorConfig(threads=1),
                                       model_id="test", mcap=True))
    try:
        summary = worker.process(discover([str(bag)])[0][0])
    finally:
        worker.close()
    assert summary["status"] == "done", summary["error"]
    stamps = [stamp(i) for i in range(5)]
    table = pq.read_table(out / summary["outputs"]["lanes"])
    assert table.column("timestamp_ns").to_pylist() == stamps
    assert table.column("timestamp_s").to_pylist() == pytest.approx([s / 1e9 for s in stamps])
    # the recording's own duration, not the time since 1970
    assert summary["duration_s"] == pytest.approx(5 * STEP_NS / 1e9, abs=1e-3)
    got = read_mcap(out / summary["outputs"]["mcap"])
    for key in ("image", "annotations", "result"):
        assert [t for t, _, _ in got[TOPICS[key]]] == stamps


def test_batch_with_mcap_output_end_to_end(tmp_path, capsys, local_ray):
    root = _archive(tmp_path / "drives")
    write_ros2_bag(root / "depth_bag", 3, "16UC1", topic="/depth")
    out = tmp_path / "out"
    rc = main(["batch", "--quiet", str(root), "--out", str(out), "--mcap"])
    err = capsys.readouterr().err
    assert rc == 2, err  # the depth-only bag is bad input; the others are done
    with open(out / "summary.csv", newline="") as fh:
        rows = {r["path"][len(str(root)) + 1:]: r for r in csv.DictReader(fh)}
    depth = rows.pop("depth_bag")
    assert depth["status"] == "failed" and "16UC1" in depth["error"]
    assert "\n" not in depth["error"]
    assert {r["status"] for r in rows.values()} == {"done"}
    assert not (out / "mcap" / f"{depth['video_id']}.mcap").exists()
    for name, row in rows.items():
        table = pq.read_table(out / row["lanes_file"])
        assert table.num_rows == int(row["frames"]) == 4, name
        mcap_file = out / "mcap" / (row["video_id"] + ".mcap")
        got = read_mcap(mcap_file)
        results = got[TOPICS["result"]]
        assert len(results) == len(got[TOPICS["annotations"]]) == 4, name
        times = [t for t, _, _ in results]
        if name == "old.mp4":  # a video: its stream positions
            assert times == [round(i / 25 * 1e9) for i in range(4)]
        else:
            assert times == [stamp(i) for i in range(4)], name
            assert table.column("timestamp_ns").to_pylist() == times


def test_topic_picks_the_camera_of_recordings_with_several(tmp_path):
    bag = write_ros2_bag(tmp_path / "bag", 3, "bgr8", topic="/left", others=[("/right", "jpeg")])
    out = tmp_path / "out"
    out.mkdir()
    Layout(out).make_folders(["lanes"])
    job = discover([str(bag)])[0][0]
    for topic, status in ((None, "failed"), ("/right", "done")):
        worker = VideoWorker(WorkerOptions(out=str(out), detector=DetectorConfig(threads=1),
                                           model_id="test", topic=topic))
        try:
            summary = worker.process(job)
        finally:
            worker.close()
        assert summary["status"] == status, summary
        if status == "failed":
            assert summary["error_kind"] == "input"
            assert "2 image topics (/left, /right)" in summary["error"]
        else:
            assert summary["frames"] == 3
