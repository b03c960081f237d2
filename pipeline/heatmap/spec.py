"""HeatmapSpec: what a dense score-map model (a convolutionalized classifier) takes and returns.

``lanecam convolutionalize --onnx`` embeds it in the ONNX ``metadata_props`` (key
``lanecam.heatmap``); ``lanecam run --heatmap`` reads it. Its input half is the ``InputSpec``
every model card shares (``lanecam.engines.inputspec``), so frames go through the one
``Preprocessor``. Output: (1, rows, cols, classes), NHWC; cell (i, j) scores the ``window``
whose top-left corner is input pixel ``(i * stride_y, j * stride_x)``.
"""

from dataclasses import dataclass
from typing import ClassVar, Tuple

from lanecam.engines.inputspec import InputSpec

__all__ = ["HeatmapSpec", "HEATMAP_METADATA_KEY"]

HEATMAP_METADATA_KEY = "lanecam.heatmap"


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@dataclass(frozen=True)
class HeatmapSpec(InputSpec):
    """A dense score-map model's card.

    Attributes (besides the input contract of ``InputSpec``; here the defaults crop nothing):
        window: (h, w) input pixels one cell scores (the classifier's input size).
        stride: (sy, sx) input pixels between cells.
        class_index: the channel drawn (the "lane" class).
        class_names: names of the channels (may be empty).
        probabilities: True when the outputs already are per-cell softmax probabilities;
            False for logits, which the runtime turns into probabilities by a softmax over
            the class channels of each cell (never over the whole map).
    """

    kind: ClassVar[str] = "heatmap spec"
    card: ClassVar[str] = "heatmap description"
    how_to_make: ClassVar[str] = ("make it with `lanecam convolutionalize CLASSIFIER -o OUT.keras "
                                  "--input-size HxW --onnx OUT.onnx`")
    metadata_key: ClassVar[str] = HEATMAP_METADATA_KEY
    tuple_fields: ClassVar[Tuple[str, ...]] = ("mean", "std", "window", "stride", "class_names")

    name: str = "heatmap"
    window: Tuple[int, int] = (24, 24)
    stride: Tuple[int, int] = (2, 2)
    class_index: int = 1
    class_names: Tuple[str, ...] = ()
    probabilities: bool = True

    def __post_init__(self):
        super().__post_init__()
        for key in ("window", "stride"):
            val = getattr(self, key)
            self.expect(len(val) == 2 and all(_is_int(v) and v >= 1 for v in val), key,
                        "two positive integers", val)
        self.expect(self.window[0] <= self.input_height and self.window[1] <= self.input_width,
                    "window", f"at most the input size {self.input_height}x{self.input_width}",
                    self.window)
        self.expect(_is_int(self.class_index) and self.class_index >= 0, "class_index",
                    "a non-negative integer", self.class_index)
        self.expect(isinstance(self.probabilities, bool), "probabilities", "true or false",
                    self.probabilities)

    def map_size(self) -> Tuple[int, int]:
        """(rows, cols) of the score map for the input size."""
        (wh, ww), (sy, sx) = self.window, self.stride
        return (self.input_height - wh) // sy + 1, (self.input_width - ww) // sx + 1
