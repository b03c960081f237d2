"""Which plugin reads which URI, and the two kinds of refusal."""

import pytest

from lanecam.pipeline.errors import InputError, MissingDependencyError
from lanecam.pipeline.sources import (SourcePlugin, find_plugin, open_source, register_source,
                              source_plugins, unregister_source)


@pytest.mark.parametrize("uri, plugin", [
    ("drive.mp4", "video"),
    ("file:///data/drive.mkv", "video"),
    ("frames/*.png", "images"),
    ("frames/0001.jpg", "images"),
    ("0", "camera"),
    ("/dev/video2", "camera"),
    ("v4l2://1?width=640", "camera"),
    ("csi://0", "csi"),
    ("rtsp://cam.local/stream1", "stream"),
    ("http://127.0.0.1:8080/video", "stream"),
    ("https://example.org/a.m3u8", "stream"),
    ("videotestsrc ! videoconvert ! appsink", "gstreamer"),
    ("synthetic://?width=64&height=48", "synthetic"),
])
def test_uri_picks_plugin(uri, plugin):
    assert find_plugin(uri).name == plugin


def test_a_folder_is_read_as_images(tmp_path):
    assert find_plugin(str(tmp_path)).name == "images"
    assert find_plugin(f"file://{tmp_path}").name == "images"


@pytest.mark.parametrize("uri, message", [
    ("gopher://host/x", "no source can read"),
    ("", "empty source"),
])
def test_unknown_uris_are_refused(uri, message):
    with pytest.raises(InputError, match=message):
        open_source(uri)


def test_forced_plugin_that_cannot_read_says_so():
    with pytest.raises(InputError, match="the camera source can't read 'drive.mp4'"):
        open_source("drive.mp4", plugin="camera")
    with pytest.raises(InputError, match="unknown source plugin"):
        open_source("drive.mp4", plugin="nope")


def test_missing_library_names_the_extra():
    plugin = SourcePlugin("fancy", "nowhere:factory", ("fancy",),
                          requires=(("lanecam_no_such_module", "fancy"),))
    register_source(plugin)
    try:
        with pytest.raises(MissingDependencyError, match=r'lanecam\[fancy\]'):
            open_source("fancy://x")
    finally:
        unregister_source("fancy")
    assert "fancy" not in [p.name for p in source_plugins()]


@pytest.mark.parametrize("uri, message", [
    ("v4l2://0?width=wide", "width='wide': expected int"),
    ("v4l2://0?zoom=2", "unknown option"),
    ("v4l2://cam", "expected a camera number"),
    ("synthetic://?live=maybe", "live='maybe'"),
    ("synthetic://?frames=-1", "frames must be >= 0"),
])
def test_bad_options_are_refused_before_opening(uri, message):
    with pytest.raises(InputError, match=message):
        open_source(uri)


@pytest.mark.parametrize("uri, options", [
    ("synthetic://?fps=inf", {}), ("synthetic://?fps=nan", {}), ("v4l2://0?fps=inf", {}),
    ("csi://0?fps=-inf", {}), ("rtsp://cam/x", {"read_timeout": float("nan")}),
    ("http://cam/x", {"open_timeout": float("inf")}),
])
def test_float_options_of_uris_and_open_source_refuse_nan_and_infinities(uri, options):
    """As every float flag: NaN passes every bound check and infinity every upper one."""
    with pytest.raises(InputError, match=r"option \w+=.*: expected a finite number"):
        open_source(uri, **options)


def test_realtime_is_accepted_by_live_sources():
    # the CLI passes --realtime to whatever source it opens; a camera is live anyway
    src = open_source("v4l2://0", realtime=True)
    assert src.is_live


def test_importing_sources_imports_no_plugin_library():
    import subprocess
    import sys

    code = ("import sys; import lanecam.pipeline.sources as s; s.open_source('rtsp://x/y'); "
            "print(','.join(m for m in ('av', 'onnxruntime') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
