"""Lane departure warning with hysteresis on the lateral offset and its rate."""

from typing import Optional

__all__ = ["DepartureWarning", "DEPARTURE_STATES"]

DEPARTURE_STATES = ("none", "left", "right")


class DepartureWarning:
    """Warn when the vehicle drifts towards a line; stay quiet once it is back.

    Offsets are vehicle minus lane centre (+ = right of centre), rates in m/s (+ = moving
    right). A warning for one side starts when the offset towards that side reaches ``on_m``,
    or ``early_m`` while moving outwards faster than ``rate_on_mps`` (it will cross soon). It
    ends only when the offset is back inside ``off_m`` and the vehicle is no longer moving
    outwards faster than ``rate_off_mps``: the gap between on and off thresholds keeps the
    warning from flickering around one value. With a 1.8 m wide car in a 3.7 m lane the
    wheels touch the line at about 0.95 m, so the defaults warn some 20 cm before.
    """

    def __init__(self, on_m: float = 0.75, off_m: float = 0.55, early_m: float = 0.45,
                 rate_on_mps: float = 0.5, rate_off_mps: float = 0.2):
        if not (0 < off_m < on_m and 0 < early_m <= on_m and 0 <= rate_off_mps <= rate_on_mps):
            raise ValueError("departure thresholds: expected 0 < off_m < on_m, "
                             "0 < early_m <= on_m, 0 <= rate_off_mps <= rate_on_mps")
        self.on_m, self.off_m, self.early_m = on_m, off_m, early_m
        self.rate_on, self.rate_off = rate_on_mps, rate_off_mps
        self.state = "none"

    def reset(self) -> None:
        """Back to "none"."""
        self.state = "none"

    def update(self, offset_m: Optional[float], rate_mps: Optional[float] = 0.0) -> str:
        """Feed the smoothed offset (None = unknown) and its rate; returns the state."""
        if offset_m is None:
            self.state = "none"
            return self.state
        rate = rate_mps or 0.0
        # Mirror so that "outwards" is positive for each side in turn.
        for side, sign in (("right", 1.0), ("left", -1.0)):
            out, out_rate = sign * offset_m, sign * rate
            if self.state == side:
                if out < self.off_m and out_rate < self.rate_off:
                    self.state = "none"
                return self.state
        for side, sign in (("right", 1.0), ("left", -1.0)):
            out, out_rate = sign * offset_m, sign * rate
            if out >= self.on_m or (out >= self.early_m and out_rate >= self.rate_on):
                self.state = side
                break
        return self.state
