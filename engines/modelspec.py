"""ModelSpec: the model card every part of lanecam agrees on.

One definition of what a lane model expects and produces. The trainer writes it next to the
model, the exporter embeds it in the ONNX ``metadata_props`` (key ``lanecam.modelspec``) and in
the TensorRT sidecar, the runtime reads it to preprocess frames and to decode the outputs.

Its input half (size, layout, colour, dtype, normalisation, crop) is the ``InputSpec`` every
model card shares (``lanecam.engines.inputspec``); this module adds the lane outputs.
"""

from dataclasses import dataclass
from typing import ClassVar, Optional, Tuple

from lanecam.engines.inputspec import InputSpec, find_spec, spec_path_for

__all__ = ["ModelSpec", "InputSpec", "OUTPUT_KINDS", "METADATA_KEY", "DEFAULT_LANE_CLASSES",
           "spec_path_for", "find_spec"]

OUTPUT_KINDS = ("lane_slots", "ego_area")
METADATA_KEY = "lanecam.modelspec"
DEFAULT_LANE_CLASSES = ("background", "L2", "L1", "R1", "R2")


@dataclass(frozen=True)
class ModelSpec(InputSpec):
    """What a lane model takes (the ``InputSpec`` fields) and returns.

    Attributes (besides the input contract of ``InputSpec``, whose defaults here are the
    bundled LaneFCN's):
        output_kind: "lane_slots" (per-pixel softmax over background + lane slots) or
            "ego_area" (one channel: the drivable ego lane area).
        seg_output: name of the per-pixel output tensor.
        exist_output: name of the per-slot existence output (probabilities), or None.
        class_names: channel names of ``seg_output``; for lane_slots the first is background
            and the rest are the slots left to right.
        output_layout: "NHWC" or "NCHW" layout of ``seg_output``.
        version: free-form model version string.
        lane_threshold, exist_threshold: decision thresholds of the lane extraction, chosen
            for this model on validation data.
    """

    kind: ClassVar[str] = "model spec"
    card: ClassVar[str] = "ModelSpec"
    how_to_make: ClassVar[str] = "export the model with lanecam export or pass a spec"
    metadata_key: ClassVar[str] = METADATA_KEY
    tuple_fields: ClassVar[Tuple[str, ...]] = ("mean", "std", "class_names")

    name: str = "lanefcn"
    crop_top: float = 0.35
    output_kind: str = "lane_slots"
    seg_output: str = "lane_prob"
    exist_output: Optional[str] = "lane_exist"
    class_names: Tuple[str, ...] = DEFAULT_LANE_CLASSES
    output_layout: str = "NHWC"
    version: str = "0"
    lane_threshold: float = 0.3
    exist_threshold: float = 0.5

    def __post_init__(self):
        super().__post_init__()
        self.expect(self.output_layout in ("NHWC", "NCHW"), "output_layout", "NHWC or NCHW",
                    self.output_layout)
        for key in ("lane_threshold", "exist_threshold"):
            val = getattr(self, key)
            self.expect(isinstance(val, (int, float)) and 0.0 <= val <= 1.0, key,
                        "a probability in [0, 1]", val)
        self.expect(self.output_kind in OUTPUT_KINDS, "output_kind", " or ".join(OUTPUT_KINDS),
                    self.output_kind)
        if self.output_kind == "lane_slots":
            self.expect(len(self.class_names) >= 2, "class_names",
                        "background plus at least one lane slot", self.class_names)
        else:
            self.expect(len(self.class_names) == 1, "class_names",
                        "exactly one name for an ego_area model", self.class_names)

    # ---- derived values -------------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        """Channels of the per-pixel output."""
        return len(self.class_names)

    @property
    def slot_names(self) -> Tuple[str, ...]:
        """Lane slot names, left to right (lane_slots models only)."""
        return self.class_names[1:] if self.output_kind == "lane_slots" else ()

    def required_outputs(self) -> Tuple[str, ...]:
        """The per-pixel output, and the existence output when the spec has one."""
        return tuple(filter(None, (self.seg_output, self.exist_output)))
