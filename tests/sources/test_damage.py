"""Damaged and unusual-but-valid video files: skip what cannot be decoded, keep everything
FFmpeg can decode, and call a file truncated only when it really is."""

import pytest

from .media import decodable_frames, flip_bits, write_av_video, zero_block
from .test_files import read_all
from lanecam.pipeline.sources.damage import SkipLog, format_ranges

av = pytest.importorskip("av")
from lanecam.pipeline.sources import open_source  # noqa: E402


def test_skiplog_merges_consecutive_positions():
    log = SkipLog()
    for i in (3, 4, 5, 9, 11, 12):
        log.add(i)
    assert log.ranges == [(3, 5), (9, 9), (11, 12)] and log.count == 6
    assert str(log) == "3-5, 9, 11-12"
    assert format_ranges([(i, i) for i in range(0, 20, 2)], limit=2) == "0, 2, ... (8 more)"


@pytest.mark.parametrize("damage", [zero_block, flip_bits], ids=["zeroed", "flipped"])
def test_damage_mid_file_skips_frames_and_reads_to_the_end(tmp_path, damage):
    path = write_av_video(tmp_path / "damaged.mp4", 120)
    damage(path)
    expected = decodable_frames(path)
    with open_source(str(path)) as src:
        frames, stamps = read_all(src)
    assert src.skipped, "the damage should have cost some frames"
    # every frame FFmpeg can decode is kept, including those after the damage
    assert len(frames) == expected
    first, last = src.skipped.ranges[0]
    assert last < 119 and len(frames) > first, "reading stopped at the damage"
    assert not src.ended_early
    # timestamps are stream positions: the skipped frames leave a gap
    assert stamps == sorted(stamps) and stamps[-1] > (len(frames) - 1) / 10


def test_edit_list_hiding_preroll_is_not_truncation(tmp_path):
    path = write_av_video(tmp_path / "editlist.mp4", 162, first_pts=-2)
    with open_source(str(path)) as src:
        assert src.frame_count == 162  # the container counts the hidden pre-roll frames
        frames, _ = read_all(src)
    assert len(frames) == 160
    assert not src.ended_early and not src.skipped


def test_mkv_with_audio_longer_than_video_is_not_truncation(tmp_path):
    path = write_av_video(tmp_path / "audio.mkv", 40, fmt="matroska", audio_seconds=10)
    with open_source(str(path)) as src:
        assert src.frame_count > 40  # estimated from the (audio) duration
        frames, _ = read_all(src)
    assert len(frames) == 40
    assert not src.ended_early and not src.skipped


def test_cut_file_is_still_truncated(tmp_path):
    path = write_av_video(tmp_path / "cut.mp4", 40, options={"movflags": "+faststart"})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 6 // 10])
    with open_source(str(path)) as src:
        frames, _ = read_all(src)
    assert 0 < len(frames) < 40
    assert src.ended_early and "truncated" in src.ended_early and str(path) in src.ended_early
