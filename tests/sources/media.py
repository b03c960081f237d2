"""Small videos written on the fly for source tests (never binaries in the repo)."""

from pathlib import Path

import cv2
import numpy as np


def numbered_frame(i: int, width: int = 64, height: int = 48) -> np.ndarray:
    """A frame whose brightness encodes ``i`` (robust to lossy compression)."""
    return np.full((height, width, 3), (20 + 10 * i) % 240, np.uint8)


def write_video(path, n: int, fps: float = 10.0, width: int = 64, height: int = 48) -> Path:
    """An ``n``-frame mp4v video made with OpenCV (its index is at the end of the file)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    assert writer.isOpened()
    for i in range(n):
        writer.write(numbered_frame(i, width, height))
    writer.release()
    return Path(path)


def write_av_video(path, n: int, fmt=None, first_pts: int = 0, audio_seconds: float = 0.0,
                   options=None, width: int = 64, height: int = 48) -> Path:
    """An ``n``-frame mpeg4 video made with PyAV (10 fps, a keyframe every 10 frames).

    ``first_pts`` < 0 gives the first frames negative timestamps: the mp4 muxer writes an
    edit list that hides them (pre-roll). ``audio_seconds`` adds a silent AAC track that
    lasts that long (longer than the video: the container duration is the audio's).
    """
    import av
    from fractions import Fraction

    with av.open(str(path), "w", format=fmt, options=options or {}) as out:
        video = out.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.gop_size = 10
        # every stream is added before the first packet: the header is written then
        audio = out.add_stream("aac", rate=8000) if audio_seconds else None
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(numbered_frame(i, width, height), format="bgr24")
            frame.pts, frame.time_base = first_pts + i, Fraction(1, 10)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if audio is not None:
            for start in range(0, int(8000 * audio_seconds), 1024):
                chunk = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32),
                                                   format="fltp", layout="mono")
                chunk.sample_rate, chunk.pts = 8000, start
                out.mux(audio.encode(chunk))
            out.mux(audio.encode(None))
    return Path(path)


def decodable_frames(path) -> int:
    """How many frames FFmpeg (through PyAV) decodes from ``path``, skipping broken packets."""
    import av

    count = 0
    with av.open(str(path)) as container:
        for packet in container.demux(video=0):
            try:
                count += len(packet.decode())
            except av.error.FFmpegError:
                pass
    return count


def zero_block(path, fraction: float = 1 / 3, size: int = 3000) -> None:
    """Overwrite ``size`` bytes at ``fraction`` of the file with zeros (damage mid-file)."""
    data = bytearray(Path(path).read_bytes())
    start = int(len(data) * fraction)
    data[start:start + size] = bytes(size)
    Path(path).write_bytes(bytes(data))


def flip_bits(path, count: int = 200, seed: int = 0, start: float = 0.3, end: float = 0.6):
    """Flip ``count`` random bits between ``start`` and ``end`` fractions of the file."""
    data = np.frombuffer(Path(path).read_bytes(), np.uint8).copy()
    rng = np.random.default_rng(seed)
    where = rng.integers(int(len(data) * start), int(len(data) * end), count)
    data[where] ^= (1 << rng.integers(0, 8, count)).astype(np.uint8)
    Path(path).write_bytes(data.tobytes())


def write_hls(folder, n: int, name: str = "clip", endlist: bool = True,
              width: int = 64, height: int = 48) -> Path:
    """An ``n``-frame HLS playlist (10 fps, 1 s MPEG-2 segments) made with PyAV; returns the
    ``.m3u8`` path. ``endlist=False`` removes ``#EXT-X-ENDLIST``: a live playlist then, to
    which no segment is ever added."""
    import av
    from fractions import Fraction

    playlist = Path(folder) / f"{name}.m3u8"
    options = {"hls_time": "1", "hls_list_size": "0"}
    if endlist:
        options["hls_playlist_type"] = "vod"
    with av.open(str(playlist), "w", format="hls", options=options) as out:
        # MPEG-2 repeats its sequence header in every segment (MPEG-4 part 2 in TS would not)
        video = out.add_stream("mpeg2video", rate=10)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.gop_size = 10
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(numbered_frame(i, width, height), format="bgr24")
            frame.pts, frame.time_base = i, Fraction(1, 10)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    if not endlist:
        lines = playlist.read_text().splitlines()
        playlist.write_text("\n".join(l for l in lines if l != "#EXT-X-ENDLIST") + "\n")
    return playlist
