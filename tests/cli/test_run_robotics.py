"""``lanecam run`` on MCAP files and ROS bags, with ``--mcap`` and ``--foxglove`` outputs: one
annotation and one result message per input frame at the input's timestamps, the recorded
images kept; bad recordings one line and exit 2; SIGTERM finishes the MCAP file."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lanecam.pipeline.cli import main
from lanecam.pipeline.sinks.foxglove_msgs import TOPICS
from tests.sinks.foxglove_client import FoxgloveClient, read_mcap
from tests.sources.robotics_media import (BASE_NS, LOG_DELAY_NS, stamp, write_foxglove_mcap,
                                          write_ros1_bag, write_ros2_bag)
from tests.stopping import stop_child

pytest.importorskip("mcap")
pytest.importorskip("rosbags")
pytest.importorskip("foxglove")

FRAMES = 5


def _run(capsys, *argv):
    rc = main(["run", *map(str, argv)])
    return rc, capsys.readouterr().err


def _errors(err):
    assert "Traceback" not in err
    return [line for line in err.splitlines() if "error:" in line]


def _lines(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


INPUTS = {
    "ros1-bgr8": lambda tmp: write_ros1_bag(tmp / "drive.bag", FRAMES, "bgr8"),
    "ros2-sqlite3-bayer": lambda tmp: write_ros2_bag(tmp / "bag", FRAMES, "bayer_rggb8"),
    "ros2-mcap-jpeg": lambda tmp: write_ros2_bag(tmp / "bag", FRAMES, "jpeg", storage="mcap"),
    "foxglove-jpeg": lambda tmp: write_foxglove_mcap(tmp / "drive.mcap", FRAMES),
    "foxglove-raw-rgb8": lambda tmp: write_foxglove_mcap(tmp / "drive.mcap", FRAMES, "raw",
                                                         encoding="rgb8"),
}


@pytest.mark.parametrize("kind", sorted(INPUTS))
def test_one_message_per_frame_at_the_recorded_time(tmp_path, capsys, tiny_model, kind):
    source = INPUTS[kind](tmp_path)
    out, lanes = tmp_path / "out.mcap", tmp_path / "lanes.jsonl"
    rc, err = _run(capsys, source, "--model", tiny_model, "--mcap", out, "--lanes", lanes,
                   "--quiet", "--threads", 1)
    assert rc == 0, err
    stamps = [stamp(i) for i in range(FRAMES)]
    lines = _lines(lanes)
    assert [line["stamp_ns"] for line in lines] == stamps
    assert [line["source_ts"] for line in lines] == pytest.approx([s / 1e9 for s in stamps])
    got = read_mcap(out)
    for key in ("image", "annotations", "result"):
        assert [t for t, _, _ in got[TOPICS[key]]] == stamps, key
    assert [m["frame_id"] for _, _, m in got[TOPICS["result"]]] == list(range(FRAMES))
    assert TOPICS["geometry"] not in got  # no calibration, no geometry
    if "jpeg" in kind:  # the recorded JPEG bytes, not a second encoding
        assert [m.data for _, _, m in got[TOPICS["image"]]] == _recorded(source)


def _recorded(source):
    """The image bytes of a recording, read with the libraries."""
    if source.suffix == ".mcap":
        return [m.data for _, _, m in read_mcap(source)["/camera/image"]]
    from rosbags.highlevel import AnyReader

    with AnyReader([source]) as reader:
        return [bytes(reader.deserialize(raw, c.msgtype).data) for c, _, raw in
                reader.messages()]


def test_topic_flag_and_uri(tmp_path, capsys, tiny_model):
    source = write_foxglove_mcap(tmp_path / "two.mcap", 3, topics=("/front", "/rear"))
    rc, err = _run(capsys, source, "--model", tiny_model, "--quiet")
    assert rc == 2
    assert _errors(err) == [f"lanecam run: error: {source}: 2 image topics (/front, /rear); "
                            f"choose one with --topic NAME or mcap://{source}?topic=/front"]
    for argv in ([source, "--topic", "/rear"], [f"mcap://{source}?topic=/rear"]):
        lanes = tmp_path / "l.jsonl"
        rc, err = _run(capsys, *argv, "--model", tiny_model, "--lanes", lanes, "--quiet")
        assert rc == 0, err
        assert len(_lines(lanes)) == 3


def test_topic_is_refused_for_a_video(tmp_path, capsys, tiny_model, small_video):
    rc, err = _run(capsys, small_video, "--topic", "/cam", "--model", tiny_model, "--quiet")
    assert rc == 2
    assert _errors(err) == [f"lanecam run: error: --topic /cam: only for MCAP files and ROS "
                            f"bags, not for {small_video}"]


def _no_image_topic(tmp):
    from rosbags.rosbag2 import Writer
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS2_HUMBLE)
    with Writer(tmp / "bag", version=9) as writer:
        conn = writer.add_connection("/chatter", "std_msgs/msg/String", typestore=store)
        msg = store.types["std_msgs/msg/String"](data="hi")
        writer.write(conn, stamp(0), store.serialize_cdr(msg, "std_msgs/msg/String"))
    return tmp / "bag", "no image topic in this bag (topics: /chatter (std_msgs/msg/String))"


def _depth_only(tmp):
    return (write_ros1_bag(tmp / "depth.bag", 3, "16UC1", topic="/depth"),
            "topic /depth: image encoding '16UC1' is not supported")


@pytest.mark.parametrize("make", [_no_image_topic, _depth_only])
def test_bad_recordings_are_one_line_exit_2(tmp_path, capsys, tiny_model, make):
    source, text = make(tmp_path)
    lanes = tmp_path / "l.jsonl"
    rc, err = _run(capsys, source, "--model", tiny_model, "--lanes", lanes, "--quiet")
    assert rc == 2
    errors = _errors(err)
    assert len(errors) == 1 and text in errors[0] and str(source) in errors[0]
    assert not lanes.exists()


def test_a_truncated_mcap_keeps_its_frames_and_exits_2(tmp_path, capsys, tiny_model):
    whole = write_foxglove_mcap(tmp_path / "whole.mcap", 40, "raw", chunk_size=30_000)
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(whole.read_bytes()[:whole.stat().st_size // 2])
    lanes, out = tmp_path / "l.jsonl", tmp_path / "out.mcap"
    rc, err = _run(capsys, cut, "--model", tiny_model, "--lanes", lanes, "--mcap", out,
                   "--quiet", "--threads", 1)
    assert rc == 2
    errors = _errors(err)
    kept = len(_lines(lanes))
    assert 0 < kept < 40
    assert len(errors) == 1 and str(cut) in errors[0] and "cut short" in errors[0]
    assert f"the outputs hold the {kept} frames before it" in errors[0]
    # the outputs are complete up to the cut: every frame read is in the MCAP file too
    assert [t for t, _, _ in read_mcap(out)[TOPICS["result"]]] == [stamp(i) for i in
                                                                    range(kept)]


@pytest.mark.parametrize("form", ["plain", "uri"])
def test_the_mcap_output_never_overwrites_the_input(tmp_path, capsys, tiny_model, form):
    source = write_foxglove_mcap(tmp_path / "drive.mcap", 2)
    before = source.read_bytes()
    uri = str(source) if form == "plain" else f"mcap://{source}?topic=/camera/image"
    rc, err = _run(capsys, uri, "--model", tiny_model, "--mcap", source, "--quiet")
    assert rc == 2
    assert "never overwrites an input" in _errors(err)[0]
    assert source.read_bytes() == before


def test_a_zero_stamp_bag_uses_log_times(tmp_path, capsys, tiny_model):
    source = write_ros2_bag(tmp_path / "bag", 3, "rgb8", zero_stamp=True)
    out = tmp_path / "out.mcap"
    rc, err = _run(capsys, source, "--model", tiny_model, "--mcap", out, "--quiet")
    assert rc == 0, err
    assert [t for t, _, _ in read_mcap(out)[TOPICS["annotations"]]] == \
        [stamp(i) + LOG_DELAY_NS for i in range(3)]


def test_geometry_with_a_calibration_on_real_frames(tmp_path, capsys, shared_data):
    """Real 1280x720 frames of the calibrated Udacity camera, recorded as JPEG in a ROS 2
    bag, through the bundled model: the geometry channel has one plottable message a
    frame."""
    import cv2

    import lanecam.calibration
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_typestore

    cap = cv2.VideoCapture(str(shared_data / "videos" / "udacity_vehicle_test.mp4"))
    frames = [cap.read()[1] for _ in range(6)]
    cap.release()
    store = get_typestore(Stores.ROS2_HUMBLE)
    T = store.types
    with Writer(tmp_path / "bag", version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        conn = writer.add_connection("/cam/front/compressed", "sensor_msgs/msg/CompressedImage",
                                     typestore=store)
        for i, frame in enumerate(frames):
            t = BASE_NS + i * 40_000_000  # 25 fps
            header = T["std_msgs/msg/Header"](
                stamp=T["builtin_interfaces/msg/Time"](sec=t // 10**9, nanosec=t % 10**9),
                frame_id="cam")
            data = np.frombuffer(cv2.imencode(".jpg", frame)[1].tobytes(), np.uint8)
            msg = T["sensor_msgs/msg/CompressedImage"](header=header, format="jpeg", data=data)
            writer.write(conn, t, store.serialize_cdr(msg, "sensor_msgs/msg/CompressedImage"))
    profile = Path(lanecam.calibration.__file__).parent / "profiles" / "udacity.json"
    out = tmp_path / "out.mcap"
    rc, err = _run(capsys, tmp_path / "bag", "--calibration", profile, "--mcap", out,
                   "--quiet", "--threads", 1)
    assert rc == 0, err
    got = read_mcap(out)
    stamps = [BASE_NS + i * 40_000_000 for i in range(6)]
    geometry = [m for _, _, m in got[TOPICS["geometry"]]]
    assert [t for t, _, _ in got[TOPICS["geometry"]]] == stamps
    assert any(g["valid"] and g["offset_m"] is not None for g in geometry)
    assert all(g["departure_side"] in (-1, 0, 1) for g in geometry)
    strips = [len([p for p in m.points if p.type == 3]) for _, _, m in got[TOPICS["annotations"]]]
    assert max(strips) >= 2  # the real lane lines are drawn as line strips


def _child_env():
    return dict(os.environ, OMP_NUM_THREADS="1")


@pytest.mark.slow
def test_sigterm_finishes_the_mcap_file(tmp_path, tiny_model):
    source = write_ros2_bag(tmp_path / "bag", 3000, "bgr8")
    out = tmp_path / "out.mcap"
    proc = subprocess.Popen(
        [sys.executable, "-m", "lanecam", "run", str(source), "--model", str(tiny_model),
         "--mcap", str(out), "--lanes", str(tmp_path / "l.jsonl"), "--quiet", "--threads", "1"],
        stderr=subprocess.PIPE, text=True, env=_child_env())
    def writing():   # wait until frames are being written
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            partial = list(tmp_path.glob(".l.partial-*.jsonl"))
            if partial and partial[0].stat().st_size > 5000:
                break
            time.sleep(0.05)
        assert not out.exists()

    err = stop_child(proc, writing, timeout=30)
    assert proc.returncode == 143, err
    got = read_mcap(out)  # indexed and complete: the summary was written
    times = [t for t, _, _ in got[TOPICS["result"]]]
    assert 0 < len(times) < 3000
    # a file is read losslessly: the first frames, each at its recorded time, none missing
    assert times == [stamp(i) for i in range(len(times))]
    assert [t for t, _, _ in got[TOPICS["image"]]] == times
    assert len(_lines(tmp_path / "l.jsonl")) == len(times)
    assert not list(tmp_path.glob(".out.partial-*"))


@pytest.mark.slow
def test_foxglove_serves_a_running_bag(tmp_path, tiny_model):
    pytest.importorskip("websockets")
    source = write_ros2_bag(tmp_path / "bag", 600, "bgr8")  # 20 s at 30 fps
    proc = subprocess.Popen(
        [sys.executable, "-m", "lanecam", "run", str(source), "--realtime", "--model",
         str(tiny_model), "--foxglove", "0", "--threads", "1"],
        stderr=subprocess.PIPE, text=True, env=_child_env())
    try:
        port = None
        deadline = time.monotonic() + 60
        while port is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            found = re.search(r"-> foxglove ws://127\.0\.0\.1:(\d+)", line)
            port = int(found.group(1)) if found else None
        assert port, "the run did not say where it serves"
        wanted = {TOPICS["result"]: 10, TOPICS["annotations"]: 10, TOPICS["image"]: 10}
        client = FoxgloveClient(f"ws://127.0.0.1:{port}", wanted)
        client.start()
        assert client.done.wait(30), (client.error, {t: len(v) for t, v in
                                                     client.received.items()})
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    results = [json.loads(p) for _, p in client.received[TOPICS["result"]]]
    # live: the newest frames, in order, each at its recorded time
    ids = [r["frame_id"] for r in results]
    assert ids == sorted(ids)
    assert [t for t, _ in client.received[TOPICS["result"]]] == [stamp(i) for i in ids]


def test_mcap_image_stays_the_camera_when_another_output_draws(tmp_path, capsys, tiny_model):
    """The overlay drawn for --images must not end up in the MCAP's image topic: there the
    lanes are the annotations topic's job (Foxglove draws them over the camera image)."""
    import cv2

    source = write_foxglove_mcap(tmp_path / "raw.mcap", FRAMES, "raw", encoding="rgb8")
    alone, both = tmp_path / "alone.mcap", tmp_path / "both.mcap"
    rc, err = _run(capsys, source, "--model", tiny_model, "--mcap", alone, "--quiet")
    assert rc == 0, err
    images = tmp_path / "frames"
    images.mkdir()
    rc, err = _run(capsys, source, "--model", tiny_model, "--mcap", both, "--images", images,
                   "--quiet")
    assert rc == 0, err
    clean = [m.data for _, _, m in read_mcap(alone)[TOPICS["image"]]]
    assert [m.data for _, _, m in read_mcap(both)[TOPICS["image"]]] == clean
    # ... while the saved frames do carry the overlay (else this test could not fail)
    saved = sorted(images.iterdir())
    assert len(saved) == FRAMES
    drawn = cv2.imread(str(saved[0])).astype(int)
    camera = cv2.imdecode(np.frombuffer(clean[0], np.uint8), cv2.IMREAD_COLOR).astype(int)
    assert np.abs(drawn - camera).max() > 100
