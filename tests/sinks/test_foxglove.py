"""The MCAP sink and the live Foxglove sink: the lanecam channels, read back with the ``mcap``
library and received over WebSocket by a Foxglove WebSocket protocol client (``websockets``)."""

import json
import time

import numpy as np
import pytest

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.sinks import FoxgloveLiveSink, McapSink
from lanecam.pipeline.sinks.foxglove_msgs import TOPICS

from .fakes import Meta, two_lanes
from .foxglove_client import FoxgloveClient, read_mcap

pytest.importorskip("foxglove")
pytest.importorskip("mcap")

W, H = 1280, 720
BASE = 1_700_000_000_987_654_321


def _meta(i, encoded=None):
    meta = Meta(i, source_ts=(BASE + i * 50_000_000) / 1e9)
    meta.stamp_ns = BASE + i * 50_000_000
    meta.encoded = encoded
    return meta


def _result(i, geometry=True):
    result = two_lanes(i)
    if geometry:
        result.geometry = {"valid": True, "curvature_radius_m": 850.0 + i, "offset_m": 0.1 * i,
                           "lane_width_m": 3.6, "departure": "left" if i == 2 else "none",
                           "curvature_1pm": 1 / 850.0, "offset_rate_mps": 0.05,
                           "status": "tracking", "centre_coeffs_m": [0.0, 0.0, 0.1]}
    if i == 1:
        result.warnings = ["no_road"]
    return result


def _frame(i):
    frame = np.zeros((H, W, 3), np.uint8)
    frame[:, :, 1] = 40 * i
    return frame


def test_every_frame_on_every_channel_at_its_time(tmp_path):
    path = tmp_path / "out.mcap"
    sink = McapSink(path)
    sink.open(W, H, 20.0)
    jpeg = b"\xff\xd8recorded jpeg bytes\xff\xd9"
    for i in range(4):
        sink.write(_frame(i), _result(i), _meta(i, ("jpeg", jpeg) if i == 3 else None))
        assert not path.exists()  # written under a temporary name until closed
    sink.close()
    got = read_mcap(path)
    stamps = [BASE + i * 50_000_000 for i in range(4)]
    assert sorted(got) == sorted(TOPICS.values())
    for topic, messages in got.items():
        assert [t for t, _, _ in messages] == stamps, topic
    images = got[TOPICS["image"]]
    assert {s for _, s, _ in images} == {"foxglove.CompressedImage"}
    first = images[0][2]
    assert first.format == "jpeg" and first.frame_id == "camera"
    assert (first.timestamp.seconds, first.timestamp.nanos) == divmod(stamps[0], 10**9)
    import cv2

    decoded = cv2.imdecode(np.frombuffer(first.data, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (H, W, 3)
    assert images[3][2].data == jpeg  # a recorded JPEG is stored as it was
    annotations = got[TOPICS["annotations"]]
    ann = annotations[0][2]
    strips = [p for p in ann.points if p.type == 3]  # LineStrip
    loops = [p for p in ann.points if p.type == 2]  # LineLoop: the ego lane
    assert [kv.value for p in strips for kv in p.metadata] == ["L1", "R1"]
    assert len(strips[0].points) == 8 and strips[0].points[0].x == pytest.approx(600.0)
    # the overlay's colours: L1 magenta (BGR 255,0,255), R1 amber (BGR 0,200,255)
    assert (strips[0].outline_color.r, strips[0].outline_color.g) == (1.0, 0.0)
    assert strips[1].outline_color.r == 1.0 and strips[1].outline_color.b == 0.0
    assert len(loops) == 1 and len(loops[0].points) == 4 and loops[0].fill_color.a > 0
    assert [t.text for t in annotations[1][2].texts] == ["no road visible"]
    assert list(annotations[0][2].texts) == []
    results = [m for _, _, m in got[TOPICS["result"]]]
    assert [r["frame_id"] for r in results] == [0, 1, 2, 3]
    assert [r["stamp_ns"] for r in results] == stamps
    assert results[0]["lanes"][0]["slot"] == "L1" and results[1]["warnings"] == ["no_road"]
    geometry = [m for _, _, m in got[TOPICS["geometry"]]]
    assert [g["offset_m"] for g in geometry] == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert [g["departure_side"] for g in geometry] == [0, 0, -1, 0]
    assert [s for _, s, _ in got[TOPICS["result"]]][0] == "lanecam.LaneResult"
    assert [s for _, s, _ in got[TOPICS["geometry"]]][0] == "lanecam.Geometry"


def test_no_geometry_channel_without_a_calibration(tmp_path):
    path = tmp_path / "out.mcap"
    sink = McapSink(path)
    sink.open(W, H, 20.0)
    sink.write(_frame(0), _result(0, geometry=False), _meta(0))
    sink.close()
    assert TOPICS["geometry"] not in read_mcap(path)


def test_frames_without_a_recorded_stamp_use_their_position(tmp_path):
    path = tmp_path / "out.mcap"
    sink = McapSink(path)
    sink.open(W, H, 25.0)
    for i in range(3):
        sink.write(_frame(i), _result(i, False), Meta(i, source_ts=i / 25.0))
    sink.close()
    times = [t for t, _, _ in read_mcap(path)[TOPICS["result"]]]
    assert times == [0, 40_000_000, 80_000_000]


def test_a_failed_run_leaves_no_file(tmp_path):
    path = tmp_path / "out.mcap"
    path.write_bytes(b"previous")
    sink = McapSink(path)
    sink.open(W, H, 25.0)
    sink.write(_frame(0), _result(0), _meta(0))
    sink.close(keep=False)
    assert path.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["out.mcap"]


def test_a_missing_output_folder_is_one_line(tmp_path):
    with pytest.raises(InputError, match="output folder .* does not exist"):
        McapSink(tmp_path / "no" / "out.mcap").open(W, H, 25.0)


# -- live -----------------------------------------------------------------------------------

def test_live_clients_receive_every_channel(tmp_path):
    pytest.importorskip("websockets")
    sink = FoxgloveLiveSink("127.0.0.1:0")
    assert sink.is_display
    sink.open(W, H, 20.0)
    try:
        assert sink.port > 0 and "ws://127.0.0.1:" in sink.describe()
        frames = 5
        wanted = {TOPICS[k]: frames for k in ("image", "annotations", "result")}
        client = FoxgloveClient(f"ws://127.0.0.1:{sink.port}", wanted)
        client.start()
        assert client.subscribed.wait(10), client.error
        time.sleep(0.5)  # the server applies the subscription
        for i in range(frames):
            sink.write(_frame(i), _result(i, geometry=False), _meta(i))
        assert client.done.wait(20), (client.error, {t: len(v) for t, v in
                                                     client.received.items()})
    finally:
        sink.close()
    stamps = [BASE + i * 50_000_000 for i in range(frames)]
    for topic in wanted:
        assert [t for t, _ in client.received[topic]] == stamps, topic
    results = [json.loads(p) for _, p in client.received[TOPICS["result"]]]
    assert [r["frame_id"] for r in results] == list(range(frames))
    schemas = {c["topic"]: c["schemaName"] for c in client.channels.values()}
    assert schemas[TOPICS["image"]] == "foxglove.CompressedImage"
    assert schemas[TOPICS["annotations"]] == "foxglove.ImageAnnotations"


def test_live_binds_to_loopback_and_refuses_a_taken_port():
    sink = FoxgloveLiveSink("0")
    assert sink.host == "127.0.0.1"
    sink.open(W, H, 20.0)
    try:
        other = FoxgloveLiveSink(f"127.0.0.1:{sink.port}")
        with pytest.raises(InputError, match=rf"--foxglove 127.0.0.1:{sink.port}: cannot listen"):
            other.open(W, H, 20.0)
    finally:
        sink.close()


@pytest.mark.parametrize("bind", ["host:", "99999", "a:b"])
def test_a_bad_bind_is_one_line(bind):
    with pytest.raises(InputError, match=r"--foxglove .*expected \[HOST:\]PORT"):
        FoxgloveLiveSink(bind)


def test_the_shipped_layout_is_the_generated_one_and_names_our_topics():
    from pathlib import Path

    from lanecam.pipeline.sinks.foxglove_layout import layout_json

    shipped = Path(__file__).resolve().parents[2] / "docs" / "foxglove-layout.json"
    assert shipped.read_text() == layout_json()  # regenerate: see foxglove_layout's docstring
    text = shipped.read_text()
    for key in ("image", "annotations", "result"):
        assert f'"{TOPICS[key]}' in text
    for field in ("offset_m", "curvature_radius_m", "departure_side"):
        assert f'"{TOPICS["geometry"]}.{field}"' in text


def test_a_missing_sdk_names_the_extra(tmp_path, monkeypatch):
    import sys

    from lanecam.pipeline.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, "foxglove", None)
    for sink in (McapSink(tmp_path / "o.mcap"), FoxgloveLiveSink("0")):
        with pytest.raises(MissingDependencyError, match=r'pip install "lanecam\[robotics\]"'):
            sink.open(W, H, 25.0)
        sink.close(keep=False)
    assert list(tmp_path.iterdir()) == []
