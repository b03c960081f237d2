"""HeatmapSpec: what a dense score-map model (a convolutionalized classifier) takes and returns.

``lanecam convolutionalize --onnx`` embeds it in the ONNX ``metadata_props`` (key
``lanecam.heatmap``); ``lanecam run --heatmap`` reads it. Preprocessing, in order: crop the frame
to rows ``[crop_top * H, (1 - crop_bottom) * H)``, resize to ``input_height x input_width``,
``color`` order, ``pixel * scale``. Output: (1, rows, cols, classes), NHWC; cell (i, j) scores
the ``window`` whose top-left corner is input pixel ``(i * stride_y, j * stride_x)``.
"""

import json
import math
from dataclasses import asdict, dataclass
from typing import Optional, Tuple

from lanecam.pipeline.errors import InputError

__all__ = ["HeatmapSpec", "HEATMAP_METADATA_KEY"]

HEATMAP_METADATA_KEY = "lanecam.heatmap"


def _expect(cond: bool, what: str, expected: str, got) -> None:
    if not cond:
        raise InputError(f"heatmap spec: {what}: expected {expected}, got {got!r}")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@dataclass(frozen=True)
class HeatmapSpec:
    """A dense score-map model's card.

    Attributes:
        name: model name (for the log line).
        input_name: the input tensor; input_height, input_width: its size (NHWC, 3 channels).
        color: "rgb" or "bgr"; scale: pixel multiplier (1/255 for [0, 1] inputs).
        crop_top, crop_bottom: fractions of the frame height cut away before resizing.
        window: (h, w) input pixels one cell scores (the classifier's input size).
        stride: (sy, sx) input pixels between cells.
        class_index: the channel drawn (the "lane" class).
        class_names: names of the channels (may be empty).
        probabilities: True when the outputs already are per-cell softmax probabilities;
            False for logits, which the runtime turns into probabilities by a softmax over
            the class channels of each cell (never over the whole map).
    """

    name: str = "heatmap"
    input_name: str = "image"
    input_height: int = 128
    input_width: int = 320
    color: str = "rgb"
    scale: float = 1.0 / 255.0
    crop_top: float = 0.0
    crop_bottom: float = 0.0
    window: Tuple[int, int] = (24, 24)
    stride: Tuple[int, int] = (2, 2)
    class_index: int = 1
    class_names: Tuple[str, ...] = ()
    probabilities: bool = True

    def __post_init__(self):
        for key in ("window", "stride", "class_names"):
            val = getattr(self, key)
            _expect(isinstance(val, (list, tuple)), key, "a list", val)
            object.__setattr__(self, key, tuple(val))
        for key in ("input_height", "input_width"):
            val = getattr(self, key)
            _expect(_is_int(val) and 8 <= val <= 8192, key, "an integer between 8 and 8192", val)
        for key in ("window", "stride"):
            val = getattr(self, key)
            _expect(len(val) == 2 and all(_is_int(v) and v >= 1 for v in val), key,
                    "two positive integers", val)
        _expect(self.window[0] <= self.input_height and self.window[1] <= self.input_width,
                "window", f"at most the input size {self.input_height}x{self.input_width}",
                self.window)
        _expect(self.color in ("rgb", "bgr"), "color", "rgb or bgr", self.color)
        _expect(isinstance(self.scale, (int, float)) and math.isfinite(self.scale)
                and self.scale > 0, "scale", "a positive number", self.scale)
        for key in ("crop_top", "crop_bottom"):
            val = getattr(self, key)
            _expect(isinstance(val, (int, float)) and 0.0 <= val < 1.0, key,
                    "a fraction in [0, 1)", val)
        _expect(self.crop_top + self.crop_bottom < 0.95, "crop_top + crop_bottom",
                "less than 0.95", self.crop_top + self.crop_bottom)
        _expect(_is_int(self.class_index) and self.class_index >= 0, "class_index",
                "a non-negative integer", self.class_index)
        _expect(isinstance(self.probabilities, bool), "probabilities", "true or false",
                self.probabilities)

    def map_size(self) -> Tuple[int, int]:
        """(rows, cols) of the score map for the input size."""
        (wh, ww), (sy, sx) = self.window, self.stride
        return (self.input_height - wh) // sy + 1, (self.input_width - ww) // sx + 1

    def crop_rows(self, frame_height: int) -> Tuple[int, int]:
        """Rows ``[top, bottom)`` of a frame of this height that the model sees."""
        top = int(round(self.crop_top * frame_height))
        bottom = int(round((1.0 - self.crop_bottom) * frame_height))
        return top, max(bottom, top + 1)

    def to_json(self) -> str:
        d = asdict(self)
        for key in ("window", "stride", "class_names"):
            d[key] = list(d[key])
        return json.dumps(d)

    @classmethod
    def from_json(cls, text: str, source: str = "heatmap spec") -> "HeatmapSpec":
        """Parse and validate; unknown keys are an error."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{source}: not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise InputError(f"{source}: expected a JSON object, got {type(data).__name__}")
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise InputError(f"{source}: unknown keys {unknown}")
        try:
            return cls(**data)
        except InputError as exc:
            raise InputError(f"{source}: {exc}") from None

    def to_metadata_props(self) -> dict:
        """The ONNX ``metadata_props`` entry that embeds this spec."""
        return {HEATMAP_METADATA_KEY: self.to_json()}

    @classmethod
    def from_metadata_props(cls, props: dict, source: str) -> Optional["HeatmapSpec"]:
        """The embedded spec, or None when the model has none."""
        text = (props or {}).get(HEATMAP_METADATA_KEY)
        return None if text is None else cls.from_json(text, source)
