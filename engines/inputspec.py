"""InputSpec: the input contract every model card shares, and how a model's card is found.

A frame becomes a model's input the same way for every model lanecam runs (the lane model's
``ModelSpec``, the heatmap model's ``HeatmapSpec``): crop the frame to rows
``[crop_top * H, (1 - crop_bottom) * H)``, resize to ``input_height x input_width``, convert to
``color`` order, then ``x = (pixel * scale - mean) / std`` per channel, in ``layout`` and
``dtype``. ``lanecam.pipeline.preprocess.Preprocessor`` reads only these fields, so it takes
any card built on this one.

``find_spec`` is the one place a card is looked for: the argument, then the card embedded in
the model (ONNX ``metadata_props``, a TensorRT plan's sidecar), then ``<stem>.spec.json``
beside the model, else an error naming the model and everything that was looked at.
"""

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar, Mapping, Optional, Tuple, Type, TypeVar

from lanecam.pipeline.errors import InputError
from lanecam.pipeline.outputs import write_atomic
from lanecam.pipeline.safe_load import json_loads

__all__ = ["InputSpec", "spec_path_for", "find_spec"]

S = TypeVar("S", bound="InputSpec")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class InputSpec:
    """What a model takes: the fields preprocessing reads.

    Attributes:
        name: model name (for reports, logs and the HUD).
        input_name: name of the input tensor.
        input_height, input_width: the model's input size in pixels.
        layout: "NHWC" or "NCHW".
        color: "rgb" or "bgr" channel order of the input.
        dtype: "float32" or "uint8" input element type (a uint8 model gets raw pixels).
        scale, mean, std: normalisation ``(pixel * scale - mean) / std``.
        crop_top, crop_bottom: fractions of the frame height cut away before resizing
            (sky above the horizon, the car's hood).

    Subclasses set ``kind`` (prefix of validation messages), ``card`` (what a missing one is
    called: "ModelSpec"), ``how_to_make`` (the advice when none is found), ``metadata_key``
    (their ONNX ``metadata_props`` key) and ``tuple_fields`` (sequence fields, normalised to
    tuples), and extend ``__post_init__``.
    """

    kind: ClassVar[str] = "input spec"
    card: ClassVar[str] = "input spec"
    how_to_make: ClassVar[str] = "pass a spec"
    metadata_key: ClassVar[str] = "lanecam.inputspec"
    tuple_fields: ClassVar[Tuple[str, ...]] = ("mean", "std")

    name: str = "model"
    input_name: str = "image"
    input_height: int = 128
    input_width: int = 320
    layout: str = "NHWC"
    color: str = "rgb"
    dtype: str = "float32"
    scale: float = 1.0 / 255.0
    mean: Tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: Tuple[float, float, float] = (1.0, 1.0, 1.0)
    crop_top: float = 0.0
    crop_bottom: float = 0.0

    def expect(self, cond: bool, what: str, expected: str, got) -> None:
        """Raise ``InputError("<kind>: <what>: expected <expected>, got <got>")`` unless ``cond``."""
        if not cond:
            raise InputError(f"{self.kind}: {what}: expected {expected}, got {got!r}")

    def __post_init__(self):
        # frozen dataclass: sequences become tuples through object.__setattr__
        for key in self.tuple_fields:
            val = getattr(self, key)
            self.expect(isinstance(val, (list, tuple)), key, "a list", val)
            object.__setattr__(self, key, tuple(val))
        self.expect(isinstance(self.name, str) and self.name != "", "name", "a non-empty string",
                    self.name)
        self.expect(isinstance(self.input_name, str) and self.input_name != "", "input_name",
                    "a non-empty string", self.input_name)
        for key in ("input_height", "input_width"):
            val = getattr(self, key)
            self.expect(_is_int(val) and 8 <= val <= 8192, key, "an integer between 8 and 8192",
                        val)
        self.expect(self.layout in ("NHWC", "NCHW"), "layout", "NHWC or NCHW", self.layout)
        self.expect(self.color in ("rgb", "bgr"), "color", "rgb or bgr", self.color)
        self.expect(self.dtype in ("float32", "uint8"), "dtype", "float32 or uint8", self.dtype)
        self.expect(_is_number(self.scale) and self.scale > 0, "scale", "a positive number",
                    self.scale)
        self.expect(len(self.mean) == 3 and all(map(_is_number, self.mean)), "mean", "3 numbers",
                    self.mean)
        self.expect(len(self.std) == 3 and all(_is_number(v) and v > 0 for v in self.std), "std",
                    "3 positive numbers", self.std)
        for key in ("crop_top", "crop_bottom"):
            val = getattr(self, key)
            self.expect(_is_number(val) and 0.0 <= val < 1.0, key, "a fraction in [0, 1)", val)
        self.expect(self.crop_top + self.crop_bottom < 0.95, "crop_top + crop_bottom",
                    "less than 0.95 (something of the frame must remain)",
                    self.crop_top + self.crop_bottom)

    # ---- derived values -------------------------------------------------------------------
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

    def required_outputs(self) -> Tuple[str, ...]:
        """Output tensor names the model must have (engines check them); none by default."""
        return ()

    # ---- (de)serialisation ----------------------------------------------------------------
    def to_dict(self) -> dict:
        """The fields as JSON-ready values (tuples as lists)."""
        d = asdict(self)
        for key in self.tuple_fields:
            d[key] = list(d[key])
        return d

    def to_json(self) -> str:
        """Indented JSON of ``to_dict()`` (the sidecar file's text)."""
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls: Type[S], data: dict, source: Optional[str] = None) -> S:
        """Build and validate a spec from a dict; unknown keys are an error, not ignored.

        ``source`` names where the dict came from in error messages (default: ``kind``).
        """
        source = source or cls.kind
        if not isinstance(data, dict):
            raise InputError(f"{source}: expected a JSON object, got {type(data).__name__}")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f"{source}: unknown keys {unknown}; expected some of {sorted(known)}")
        try:
            return cls(**data)
        except (InputError, TypeError) as exc:
            raise InputError(f"{source}: {exc}") from None

    @classmethod
    def from_json(cls: Type[S], text: str, source: Optional[str] = None) -> S:
        """Parse and validate JSON text (``from_dict``)."""
        try:
            data = json_loads(text, source or cls.kind)
        except json.JSONDecodeError as exc:
            raise InputError(f"{source or cls.kind}: not valid JSON ({exc})") from None
        return cls.from_dict(data, source)

    def save(self, path) -> Path:
        """Write the spec as JSON to ``path`` (under a temporary name, renamed when complete:
        a previous file stays whole until then); returns the path."""
        return write_atomic(path, self.to_json() + "\n", self.kind)

    @classmethod
    def load(cls: Type[S], path) -> S:
        """Read a spec JSON file (``InputError`` naming the file when missing or invalid)."""
        path = Path(path)
        if not path.is_file():
            raise InputError(f"{path}: {cls.kind} file not found")
        return cls.from_json(path.read_text(), str(path))

    def replace(self: S, **changes) -> S:
        """A validated copy with ``changes`` applied."""
        d = self.to_dict()
        d.update(changes)
        return type(self).from_dict(d)

    # ---- ONNX metadata --------------------------------------------------------------------
    def to_metadata_props(self) -> dict:
        """The ``metadata_props`` entry that embeds this spec in an ONNX model."""
        return {self.metadata_key: json.dumps(self.to_dict())}

    @classmethod
    def from_metadata_props(cls: Type[S], props: Optional[Mapping[str, str]],
                            source: str = "ONNX metadata") -> Optional[S]:
        """The spec embedded in ONNX ``metadata_props`` (a mapping), or None when absent."""
        text = props.get(cls.metadata_key) if props else None
        return None if text is None else cls.from_json(text, source)


def spec_path_for(model_path) -> Path:
    """The sidecar spec file of a model: ``model.onnx`` -> ``model.spec.json``."""
    p = Path(model_path)
    return p.with_name(p.stem + ".spec.json")


def find_spec(model_path, spec_type: Type[S], given: Optional[S] = None,
              embedded: Optional[Mapping[str, str]] = None, embedded_in: str = "",
              hint: Optional[str] = None) -> S:
    """The card of ``model_path``: ``given``, else embedded, else the sidecar file.

    Args:
        model_path: the model file (or folder); names the sidecar ``<stem>.spec.json`` and the
            model in messages.
        spec_type: the card's class (``ModelSpec``, ``HeatmapSpec``...).
        given: a spec passed by the caller; wins when not None (it must be a ``spec_type``).
        embedded: ``metadata_props``-like mapping read from the model (ONNX metadata, a plan's
            sidecar), or None when the model format carries none.
        embedded_in: where ``embedded`` came from, for messages ("ONNX metadata").
        hint: what the user can do when nothing is found (appended to the error); None for
            ``spec_type.how_to_make``.

    Raises:
        InputError: nothing found (the message lists every place looked at), or an invalid
            card (naming where it came from).
    """
    if given is not None:
        if not isinstance(given, spec_type):
            raise InputError(f"{model_path}: expected a {spec_type.__name__}, got "
                             f"{type(given).__name__}")
        return given
    looked = ["none given"]
    if embedded is not None:
        spec = spec_type.from_metadata_props(embedded, f"{model_path} {embedded_in}".strip())
        if spec is not None:
            return spec
        looked.append(f"none in the {embedded_in or 'model'}")
    sidecar = spec_path_for(model_path)
    if sidecar.is_file():
        return spec_type.load(sidecar)
    looked.append(f"no {sidecar.name} beside it")
    hint = spec_type.how_to_make if hint is None else hint
    tail = f"; {hint}" if hint else ""
    raise InputError(f"{model_path}: no {spec_type.card} ({', '.join(looked)}){tail}")
