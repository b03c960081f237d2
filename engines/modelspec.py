"""ModelSpec: the model card every part of lanecam agrees on.

One definition of what a lane model expects and produces. The trainer writes it next to the
model, the exporter embeds it in the ONNX ``metadata_props`` (key ``lanecam.modelspec``) and in
the TensorRT sidecar, the runtime reads it to preprocess frames and to decode the outputs.

Preprocessing it describes, in order: crop the frame to rows
``[crop_top * H, (1 - crop_bottom) * H)``, resize to ``input_height x input_width``, convert to
``color`` order, then ``x = (pixel * scale - mean) / std`` per channel, in ``layout``.
"""

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple

from lanecam.pipeline.errors import InputError

__all__ = ["ModelSpec", "OUTPUT_KINDS", "METADATA_KEY", "DEFAULT_LANE_CLASSES"]

OUTPUT_KINDS = ("lane_slots", "ego_area")
METADATA_KEY = "lanecam.modelspec"
DEFAULT_LANE_CLASSES = ("background", "L2", "L1", "R1", "R2")


def _expect(cond: bool, what: str, expected: str, got) -> None:
    if not cond:
        raise InputError(f"model spec: {what}: expected {expected}, got {got!r}")


@dataclass(frozen=True)
class ModelSpec:
    """What a lane model takes and returns.

    Attributes:
        name: model name (for reports and the HUD).
        input_name: name of the input tensor.
        input_height, input_width: the model's input size in pixels.
        layout: "NHWC" or "NCHW".
        color: "rgb" or "bgr" channel order of the input.
        dtype: "float32" or "uint8" input element type.
        scale, mean, std: normalisation ``(pixel * scale - mean) / std``.
        crop_top, crop_bottom: fractions of the frame height cut away before resizing
            (sky above the horizon, the car's hood).
        output_kind: "lane_slots" (per-pixel softmax over background + lane slots) or
            "ego_area" (one channel: the drivable ego lane area).
        seg_output: name of the per-pixel output tensor.
        exist_output: name of the per-slot existence output (probabilities), or None.
        class_names: channel names of ``seg_output``; for lane_slots the first is background
            and the rest are the slots left to right.
        output_layout: "NHWC" or "NCHW" layout of ``seg_output``.
        version: free-form model version string.
    """

    name: str = "lanefcn"
    input_name: str = "image"
    input_height: int = 128
    input_width: int = 320
    layout: str = "NHWC"
    color: str = "rgb"
    dtype: str = "float32"
    scale: float = 1.0 / 255.0
    mean: Tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: Tuple[float, float, float] = (1.0, 1.0, 1.0)
    crop_top: float = 0.35
    crop_bottom: float = 0.0
    output_kind: str = "lane_slots"
    seg_output: str = "lane_prob"
    exist_output: Optional[str] = "lane_exist"
    class_names: Tuple[str, ...] = DEFAULT_LANE_CLASSES
    output_layout: str = "NHWC"
    version: str = "0"
    # decision thresholds of the lane extraction, chosen for this model on validation data
    lane_threshold: float = 0.3
    exist_threshold: float = 0.5

    def __post_init__(self):
        # frozen dataclass: normalise sequences to tuples through object.__setattr__
        for key in ("mean", "std", "class_names"):
            val = getattr(self, key)
            _expect(isinstance(val, (list, tuple)), key, "a list", val)
            object.__setattr__(self, key, tuple(val))
        _expect(isinstance(self.name, str) and self.name != "", "name", "a non-empty string", self.name)
        for key in ("input_height", "input_width"):
            val = getattr(self, key)
            _expect(isinstance(val, int) and not isinstance(val, bool) and 8 <= val <= 8192,
                    key, "an integer between 8 and 8192", val)
        _expect(self.layout in ("NHWC", "NCHW"), "layout", "NHWC or NCHW", self.layout)
        _expect(self.output_layout in ("NHWC", "NCHW"), "output_layout", "NHWC or NCHW",
                self.output_layout)
        _expect(self.color in ("rgb", "bgr"), "color", "rgb or bgr", self.color)
        _expect(self.dtype in ("float32", "uint8"), "dtype", "float32 or uint8", self.dtype)
        _expect(isinstance(self.scale, (int, float)) and math.isfinite(self.scale) and self.scale > 0,
                "scale", "a positive number", self.scale)
        _expect(len(self.mean) == 3 and all(isinstance(v, (int, float)) for v in self.mean),
                "mean", "3 numbers", self.mean)
        _expect(len(self.std) == 3 and all(isinstance(v, (int, float)) and v > 0 for v in self.std),
                "std", "3 positive numbers", self.std)
        for key in ("crop_top", "crop_bottom"):
            val = getattr(self, key)
            _expect(isinstance(val, (int, float)) and 0.0 <= val < 1.0, key,
                    "a fraction in [0, 1)", val)
        _expect(self.crop_top + self.crop_bottom < 0.95, "crop_top + crop_bottom",
                "less than 0.95 (something of the frame must remain)",
                self.crop_top + self.crop_bottom)
        for key in ("lane_threshold", "exist_threshold"):
            val = getattr(self, key)
            _expect(isinstance(val, (int, float)) and 0.0 <= val <= 1.0, key,
                    "a probability in [0, 1]", val)
        _expect(self.output_kind in OUTPUT_KINDS, "output_kind", " or ".join(OUTPUT_KINDS),
                self.output_kind)
        if self.output_kind == "lane_slots":
            _expect(len(self.class_names) >= 2, "class_names",
                    "background plus at least one lane slot", self.class_names)
        else:
            _expect(len(self.class_names) == 1, "class_names",
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

    @property
    def input_shape(self) -> Tuple[int, int, int, int]:
        """Batch-1 input shape in the spec's layout."""
        if self.layout == "NHWC":
            return (1, self.input_height, self.input_width, 3)
        return (1, 3, self.input_height, self.input_width)

    def crop_rows(self, frame_height: int) -> Tuple[int, int]:
        """Rows ``[top, bottom)`` of a frame of this height that the model sees."""
        top = int(round(self.crop_top * frame_height))
        bottom = int(round((1.0 - self.crop_bottom) * frame_height))
        return top, max(bottom, top + 1)

    # ---- (de)serialisation ----------------------------------------------------------------
    def to_dict(self) -> dict:
        d = asdict(self)
        for key in ("mean", "std", "class_names"):
            d[key] = list(d[key])
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict, source: str = "model spec") -> "ModelSpec":
        """Build and validate a spec from a dict; unknown keys are an error, not ignored."""
        if not isinstance(data, dict):
            raise InputError(f"{source}: expected a JSON object, got {type(data).__name__}")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f"{source}: unknown keys {unknown}; expected some of {sorted(known)}")
        try:
            return cls(**data)
        except InputError as exc:
            raise InputError(f"{source}: {exc}") from None
        except TypeError as exc:
            raise InputError(f"{source}: {exc}") from None

    @classmethod
    def from_json(cls, text: str, source: str = "model spec") -> "ModelSpec":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{source}: not valid JSON ({exc})") from None
        return cls.from_dict(data, source)

    def save(self, path) -> Path:
        path = Path(path)
        path.write_text(self.to_json() + "\n")
        return path

    @classmethod
    def load(cls, path) -> "ModelSpec":
        path = Path(path)
        if not path.is_file():
            raise InputError(f"{path}: model spec file not found")
        return cls.from_json(path.read_text(), str(path))

    def replace(self, **changes) -> "ModelSpec":
        d = self.to_dict()
        d.update(changes)
        return ModelSpec.from_dict(d)

    # ---- ONNX metadata --------------------------------------------------------------------
    def to_metadata_props(self) -> dict:
        """The ``metadata_props`` entry that embeds this spec in an ONNX model."""
        return {METADATA_KEY: json.dumps(self.to_dict())}

    @classmethod
    def from_metadata_props(cls, props: dict, source: str = "ONNX metadata") -> Optional["ModelSpec"]:
        """The spec embedded in ONNX ``metadata_props`` (a dict), or None when absent."""
        text = props.get(METADATA_KEY) if props else None
        return None if text is None else cls.from_json(text, source)


def spec_path_for(model_path) -> Path:
    """The sidecar spec file of a model: ``model.onnx`` -> ``model.spec.json``."""
    p = Path(model_path)
    return p.with_name(p.stem + ".spec.json")


__all__.append("spec_path_for")
