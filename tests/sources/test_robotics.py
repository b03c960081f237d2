"""MCAP files and ROS bags as sources: every message of the image topic, in order, decoded to
BGR, with its recorded timestamp; topic choice, unsupported encodings and damage refused or
counted like for videos."""

import sys

import numpy as np
import pytest

from lanecam.pipeline.errors import InputError, MissingDependencyError
from lanecam.pipeline.sources import ReadStatus, find_plugin, open_source

from .robotics_media import (BASE_NS, HEIGHT, LOG_DELAY_NS, WIDTH, frame_colour, make_frame,
                             stamp, write_foxglove_mcap, write_ros1_bag, write_ros2_bag)

pytest.importorskip("mcap")
pytest.importorskip("rosbags")

FRAMES = 6


def _read_all(src):
    frames, stamps, times, encoded = [], [], [], []
    while True:
        status, frame, ts = src.read()
        if status is not ReadStatus.OK:
            assert status is ReadStatus.END
            return frames, stamps, times, encoded
        frames.append(frame.copy())
        stamps.append(src.stamp_ns)
        times.append(ts)
        encoded.append(src.encoded)


def _colour(frame):
    """The mean colour of a patch away from the white bar and the borders."""
    return frame[HEIGHT // 4:3 * HEIGHT // 4, 8:WIDTH // 4].reshape(-1, 3).mean(0)


def _ros2_sqlite(tmp, enc):
    return write_ros2_bag(tmp / "bag", FRAMES, enc, storage="sqlite3")


def _ros2_mcap(tmp, enc):
    return write_ros2_bag(tmp / "bag", FRAMES, enc, storage="mcap")


def _ros2_mcap_file(tmp, enc):
    """The .mcap file inside a ROS 2 bag, read directly (cdr messages, ros2msg schemas)."""
    return next(write_ros2_bag(tmp / "bag", FRAMES, enc, storage="mcap").glob("*.mcap"))


def _ros1(tmp, enc):
    return write_ros1_bag(tmp / "drive.bag", FRAMES, enc)


def _fox_compressed(tmp, enc):
    return write_foxglove_mcap(tmp / "fox.mcap", FRAMES, "compressed", fmt=enc)


def _fox_raw(tmp, enc):
    return write_foxglove_mcap(tmp / "fox.mcap", FRAMES, "raw", encoding=enc)


# (writer, encoding, colour tolerance): lossless encodings exact, the others close
CASES = [
    (_ros1, "bgr8", 0), (_ros1, "rgb8", 0), (_ros1, "jpeg", 6),
    (_ros2_sqlite, "bgr8", 0), (_ros2_sqlite, "bayer_rggb8", 2), (_ros2_sqlite, "png", 0),
    (_ros2_sqlite, "yuv422", 3),
    (_ros2_mcap, "rgb8", 0), (_ros2_mcap, "jpeg", 6), (_ros2_mcap, "mono8", None),
    (_ros2_mcap_file, "bgr8", 0), (_ros2_mcap_file, "jpeg", 6),
    (_fox_compressed, "jpeg", 6), (_fox_compressed, "png", 0),
    (_fox_raw, "bgr8", 0), (_fox_raw, "rgb8", 0),
]


@pytest.mark.parametrize("write, encoding, tolerance", CASES,
                         ids=[f"{w.__name__[1:]}-{e}" for w, e, _ in CASES])
def test_every_frame_in_order_with_its_recorded_stamp(tmp_path, write, encoding, tolerance):
    path = write(tmp_path, encoding)
    with open_source(str(path)) as src:
        assert (src.width, src.height) == (WIDTH, HEIGHT)
        assert src.frame_count == FRAMES
        assert src.fps == pytest.approx(1e9 / 33_333_333, rel=1e-6)
        assert not src.is_live
        frames, stamps, times, encoded = _read_all(src)
    assert len(frames) == FRAMES
    # the header stamp, not the log time (written LOG_DELAY_NS later), exact to the ns
    assert stamps == [stamp(i) for i in range(FRAMES)]
    assert times == pytest.approx([stamp(i) / 1e9 for i in range(FRAMES)], abs=1e-6)
    for i, frame in enumerate(frames):
        assert frame.shape == (HEIGHT, WIDTH, 3) and frame.dtype == np.uint8
        if tolerance is None:  # mono: the grey of the colour, in all three channels
            grey = make_frame(i)[HEIGHT // 2, 8].astype(float) @ [0.114, 0.587, 0.299]
            assert _colour(frame) == pytest.approx([grey] * 3, abs=1.5)
        else:
            assert _colour(frame) == pytest.approx(frame_colour(i), abs=tolerance + 0.5)
        assert frame[HEIGHT // 2, WIDTH // 2].min() > 200  # the white bar is where it was
    # compressed frames keep their recorded bytes (an MCAP sink stores them as they are)
    if encoding in ("jpeg", "png"):
        assert all(e is not None and e[0] == encoding and len(e[1]) > 100 for e in encoded)
    else:
        assert encoded == [None] * FRAMES


def test_reads_into_the_callers_buffer(tmp_path):
    path = write_ros2_bag(tmp_path / "bag", 3, "rgb8")
    out = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    with open_source(str(path)) as src:
        for _ in range(3):
            status, frame, _ = src.read(out=out)
            assert status is ReadStatus.OK and frame is out


def test_a_zero_header_stamp_falls_back_to_the_log_time(tmp_path):
    path = write_ros1_bag(tmp_path / "d.bag", 4, "bgr8", zero_stamp=True)
    with open_source(str(path)) as src:
        _, stamps, _, _ = _read_all(src)
    assert stamps == [stamp(i) + LOG_DELAY_NS for i in range(4)]


def test_the_registry_claims_recordings_before_folders_and_videos(tmp_path):
    bag = write_ros2_bag(tmp_path / "bag", 2)
    assert find_plugin(str(bag)).name == "rosbag"  # a folder, yet not an image folder
    assert find_plugin(str(bag / "metadata.yaml")).name == "rosbag"
    assert find_plugin("drive.bag").name == "rosbag"
    assert find_plugin("drive.mcap").name == "mcap"
    assert find_plugin("mcap://drive.mcap?topic=/cam").name == "mcap"
    assert find_plugin("rosbag://drive.bag?topic=/cam").name == "rosbag"
    assert find_plugin("drive.mp4").name == "video"


def test_several_image_topics_are_listed_and_one_is_chosen(tmp_path):
    path = write_foxglove_mcap(tmp_path / "two.mcap", 3, topics=("/cam/front", "/cam/rear"))
    with pytest.raises(InputError) as info:
        open_source(str(path)).open()
    text = str(info.value)
    assert "\n" not in text and "/cam/front" in text and "/cam/rear" in text
    assert "--topic" in text
    for src in (open_source(f"mcap://{path}?topic=/cam/rear"),
                open_source(str(path), topic="/cam/rear")):
        with src:
            assert src.topic == "/cam/rear"
            assert len(_read_all(src)[0]) == 3


def test_a_bag_with_several_topics_and_rosbag_uri(tmp_path):
    bag = write_ros2_bag(tmp_path / "bag", 3, "bgr8", topic="/left",
                         others=[("/right", "jpeg"), ("/chatter", "string")])
    with pytest.raises(InputError, match=r"2 image topics \(/left, /right\)"):
        open_source(str(bag)).open()
    with open_source(f"rosbag://{bag}?topic=/right") as src:
        frames, _, _, encoded = _read_all(src)
    assert len(frames) == 3 and encoded[0][0] == "jpeg"


@pytest.mark.parametrize("topic, match", [
    ("/nope", r"no topic '/nope'; image topics: /camera/image"),
    ("/chatter", r"topic /chatter is std_msgs/msg/String, not an image"),
])
def test_a_wrong_topic_is_one_line(tmp_path, topic, match):
    bag = write_ros2_bag(tmp_path / "bag", 2, others=[("/chatter", "string")])
    with pytest.raises(InputError, match=match):
        open_source(str(bag), topic=topic).open()


def test_no_image_topic_lists_the_topics(tmp_path):
    from rosbags.rosbag2 import Writer
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS2_HUMBLE)
    with Writer(tmp_path / "bag", version=9) as writer:
        conn = writer.add_connection("/chatter", "std_msgs/msg/String", typestore=store)
        msg = store.types["std_msgs/msg/String"](data="hi")
        writer.write(conn, BASE_NS, store.serialize_cdr(msg, "std_msgs/msg/String"))
    with pytest.raises(InputError, match=r"no image topic in this bag \(topics: /chatter "
                                         r"\(std_msgs/msg/String\)\)"):
        open_source(str(tmp_path / "bag")).open()


def test_a_depth_only_bag_is_refused(tmp_path):
    bag = write_ros2_bag(tmp_path / "bag", 2, "16UC1", topic="/depth")
    with pytest.raises(InputError, match=r"topic /depth: image encoding '16UC1' is not "
                                         r"supported \(a depth"):
        open_source(str(bag)).open()


def test_a_damaged_message_is_skipped_and_counted(tmp_path):
    from rosbags.rosbag1 import Writer
    from rosbags.typesys import Stores, get_typestore

    from .robotics_media import _ros_image

    store = get_typestore(Stores.ROS1_NOETIC)
    with Writer(tmp_path / "d.bag") as writer:
        conn = writer.add_connection("/cam", "sensor_msgs/msg/CompressedImage", typestore=store)
        for i in range(5):
            _, msg = _ros_image(store, i, "jpeg", True, False)
            if i == 2:
                msg.data = np.frombuffer(b"\xff\xd8 not a jpeg", np.uint8)
            writer.write(conn, stamp(i), store.serialize_ros1(msg,
                                                              "sensor_msgs/msg/CompressedImage"))
    with open_source(str(tmp_path / "d.bag")) as src:
        _, stamps, _, _ = _read_all(src)
        assert src.skipped.count == 1 and src.skipped.ranges == [(2, 2)]
    assert stamps == [stamp(i) for i in (0, 1, 3, 4)]


def test_a_truncated_mcap_keeps_what_is_there_and_says_so(tmp_path):
    path = write_foxglove_mcap(tmp_path / "long.mcap", 40, "raw", chunk_size=30_000)
    data = path.read_bytes()
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(data[:len(data) // 2])
    with open_source(str(cut)) as src:
        _, stamps, _, _ = _read_all(src)
        assert src.ended_early and str(cut) in src.ended_early
        assert "cut short" in src.ended_early
    assert 0 < len(stamps) < 40
    assert stamps == [stamp(i) for i in range(len(stamps))]  # the first ones, in order


def test_an_mcap_cut_inside_its_summary_loses_nothing(tmp_path):
    path = write_foxglove_mcap(tmp_path / "f.mcap", 5)
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(path.read_bytes()[:-40])  # the footer and part of the summary
    with open_source(str(cut)) as src:
        _, stamps, _, _ = _read_all(src)
        assert not src.ended_early
    assert stamps == [stamp(i) for i in range(5)]


@pytest.mark.parametrize("name, body, match", [
    ("x.mcap", b"not an mcap at all", r"x.mcap: not a readable MCAP file"),
    ("x.bag", b"#ROSBAG V2.0\n garbage", r"x.bag: not a readable bag"),
    ("gone.mcap", None, r"gone.mcap: no such file or folder \(expected an MCAP file\)"),
])
def test_bad_files_are_one_line(tmp_path, name, body, match):
    if body is not None:
        (tmp_path / name).write_bytes(body)
    with pytest.raises(InputError, match=match) as info:
        open_source(str(tmp_path / name)).open()
    assert "\n" not in str(info.value)


def test_a_cut_ros1_bag_is_one_line(tmp_path):
    path = write_ros1_bag(tmp_path / "d.bag", 20)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(InputError, match=r"d.bag: not a readable bag .*cut-off bag"):
        open_source(str(path)).open()


def test_missing_libraries_name_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mcap", None)
    monkeypatch.setitem(sys.modules, "rosbags", None)
    for name in ("x.mcap", "x.bag"):
        with pytest.raises(MissingDependencyError, match=r'pip install "lanecam\[robotics\]"'):
            open_source(str(tmp_path / name))


def test_unknown_uri_options_are_refused(tmp_path):
    with pytest.raises(InputError, match="unknown option"):
        open_source("mcap://x.mcap?topc=/cam")


def test_realtime_paces_at_the_recorded_rate(tmp_path):
    import time

    path = write_ros2_bag(tmp_path / "bag", 6, "bgr8")
    with open_source(str(path), realtime=True) as src:
        assert src.is_live
        t0 = time.monotonic()
        frames = _read_all(src)[0]
    assert len(frames) == 6 and time.monotonic() - t0 >= 5 * 0.033 * 0.9


def test_the_python_api_iterates_frames_with_their_stamps(tmp_path):
    import lanecam

    path = write_foxglove_mcap(tmp_path / "drive.mcap", 4)
    with lanecam.open_source(str(path)) as src:
        got = [(frame.shape, meta.frame_id, meta.stamp_ns, meta.source_ts, meta.encoded[0])
               for frame, meta in src]
    assert got == [((HEIGHT, WIDTH, 3), i, stamp(i), pytest.approx(stamp(i) / 1e9), "jpeg")
                   for i in range(4)]


def test_the_example_turns_a_ros2_bag_into_an_annotated_mcap(tmp_path):
    import subprocess
    from pathlib import Path

    pytest.importorskip("foxglove")
    from tests.sinks.foxglove_client import read_mcap

    bag = write_ros2_bag(tmp_path / "bag", 4, "jpeg")
    out = tmp_path / "annotated.mcap"
    script = Path(__file__).resolve().parents[2] / "examples" / "ros2_bag_to_mcap.py"
    proc = subprocess.run([sys.executable, str(script), str(bag), str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "4 frames of /camera/image ->" in proc.stdout
    got = read_mcap(out)
    for topic in ("/lanecam/image", "/lanecam/annotations", "/lanecam/result"):
        assert [t for t, _, _ in got[topic]] == [stamp(i) for i in range(4)]


def test_a_ros2_bag_with_a_cut_mcap_storage_keeps_what_is_there(tmp_path):
    from .robotics_media import rechunk

    bag = write_ros2_bag(tmp_path / "bag", 40, "bgr8", storage="mcap")
    storage = rechunk(next(bag.glob("*.mcap")))
    data = storage.read_bytes()
    storage.write_bytes(data[:len(data) // 2])
    with open_source(str(bag)) as src:
        assert src.frame_count == 40  # what metadata.yaml announced
        _, stamps, _, _ = _read_all(src)
        kept = len(stamps)
        assert 0 < kept < 40 and stamps == [stamp(i) for i in range(kept)]
        assert src.ended_early == (f"{bag}: its storage {storage.name} is cut short after "
                                   f"message {kept} on /camera/image ({40 - kept} of 40 lost)")
