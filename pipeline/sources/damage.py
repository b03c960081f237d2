"""Damaged input bookkeeping: which frames were skipped, and whether a file was really cut short.

A damaged region in the middle of a video makes OpenCV's ``read`` fail once per lost frame
and then succeed again after it; a cut-off file makes it fail for good. ``SkipLog`` records
the first kind as ranges of frame positions; ``probe_cut`` tells the second kind from a valid
file whose container merely announced more frames than it shows (an edit list dropping
pre-roll frames, audio outlasting the video).
"""

import logging
from typing import List, Optional, Tuple

__all__ = ["SkipLog", "probe_cut", "format_ranges", "skip_report"]

log = logging.getLogger("lanecam.sources")


def format_ranges(ranges: List[Tuple[int, int]], limit: int = 8) -> str:
    """``"47-93, 120"`` for ``[(47, 93), (120, 120)]`` (at most ``limit`` ranges, then ``...``)."""
    parts = [f"{a}" if a == b else f"{a}-{b}" for a, b in ranges[:limit]]
    if len(ranges) > limit:
        parts.append(f"... ({len(ranges) - limit} more)")
    return ", ".join(parts)


class SkipLog:
    """Ranges of skipped items (frame positions, image indices) and their total.

    ``add(i)`` extends the last range when ``i`` follows it, so a run of 47 lost frames is one
    ``(first, last)`` pair, not 47 entries: the list stays small on a badly damaged file.
    """

    def __init__(self):
        self.ranges: List[Tuple[int, int]] = []
        self.count = 0

    def add(self, index: int) -> None:
        if self.ranges and self.ranges[-1][1] == index - 1:
            self.ranges[-1] = (self.ranges[-1][0], index)
        else:
            self.ranges.append((index, index))
        self.count += 1

    def __bool__(self) -> bool:
        return self.count > 0

    def __str__(self) -> str:
        return format_ranges(self.ranges)


def probe_cut(path: str, decoded: int, announced: Optional[int]) -> Optional[str]:
    """Why ``path`` looks cut short after ``decoded`` frames, or None when it is whole.

    With PyAV (the ``video`` extra) the packets are demuxed without decoding (fast): the file
    is cut when the demuxer fails, flags a packet as corrupt (data past the end of the file),
    or finds fewer video packets than the container's exact frame count (mp4's sample table).
    An estimated count (Matroska: duration x fps, audio included) is never compared, and an
    edit list that hides pre-roll frames still has all its packets.
    Without PyAV only the announced count is left: a shortfall of more than 2 frames and 1 %
    counts as cut (a documented approximation).
    """
    try:
        import av
    except ImportError:
        if announced and announced - decoded > max(2, announced // 100):
            return (f"ended at frame {decoded} of {announced} announced by the container "
                    "(truncated file?)")
        return None
    try:
        # mp4 edit lists hide pre-roll packets from the demuxer; counted against the sample
        # table they would look missing, so read every stored packet
        with av.open(path, options={"ignore_editlist": "1"}) as container:
            stream = container.streams.video[0]
            exact = int(stream.frames or 0)
            packets = 0
            for packet in container.demux(stream):
                if packet.size == 0:  # the demuxer's end-of-stream marker
                    continue
                if packet.is_corrupt:
                    return (f"ended at frame {decoded} of {announced or exact}: packet "
                            f"{packets} is incomplete (truncated file?)")
                packets += 1
    except Exception as exc:  # noqa: BLE001 - any demuxer failure means the file is damaged
        return f"ended at frame {decoded}: the container cannot be read past it ({exc})"
    if exact and packets < exact:
        return (f"ended at frame {decoded} of {exact} announced by the container: only "
                f"{packets} are stored (truncated file?)")
    return None


def skip_report(src) -> Optional[dict]:
    """What a source skipped (its ``skipped`` SkipLog and ``unreadable`` image names) for the
    run statistics and the batch summary, or None when it skipped nothing."""
    skipped = getattr(src, "skipped", None)
    if not getattr(skipped, "ranges", None):
        return None
    names = list(getattr(src, "unreadable", []) or [])
    return {"skipped": skipped.count, "ranges": [list(r) for r in skipped.ranges],
            "unit": "images" if names else "frames",
            "text": ", ".join(names[:8]) + (" ..." if len(names) > 8 else "") if names
            else f"frame positions {skipped}", "files": names}
