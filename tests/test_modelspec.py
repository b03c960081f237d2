import json

import pytest

from lanecam.engines.modelspec import METADATA_KEY, ModelSpec, spec_path_for
from lanecam.pipeline.errors import InputError


def test_roundtrip_json_and_metadata(tmp_path):
    spec = ModelSpec(input_height=96, input_width=256, crop_top=0.4, color="bgr")
    path = spec.save(tmp_path / "m.spec.json")
    assert ModelSpec.load(path) == spec
    props = spec.to_metadata_props()
    assert METADATA_KEY in props
    assert ModelSpec.from_metadata_props(props) == spec
    assert ModelSpec.from_metadata_props({}) is None


@pytest.mark.parametrize(
    "changes, fragment",
    [
        ({"layout": "HWC"}, "layout"),
        ({"color": "gray"}, "color"),
        ({"crop_top": 1.2}, "crop_top"),
        ({"input_height": 0}, "input_height"),
        ({"output_kind": "boxes"}, "output_kind"),
        ({"std": [1, 0, 1]}, "std"),
        ({"output_kind": "ego_area"}, "class_names"),
        ({"bogus": 1}, "unknown keys"),
    ],
)
def test_bad_values_refused_with_message(changes, fragment):
    data = ModelSpec().to_dict()
    data.update(changes)
    with pytest.raises(InputError, match=fragment):
        ModelSpec.from_dict(data)


def test_derived_values():
    spec = ModelSpec(input_height=128, input_width=320, crop_top=0.35)
    assert spec.input_shape == (1, 128, 320, 3)
    assert spec.replace(layout="NCHW").input_shape == (1, 3, 128, 320)
    assert spec.slot_names == ("L2", "L1", "R1", "R2")
    assert spec.crop_rows(720) == (252, 720)
    assert spec_path_for("a/b/model.onnx").name == "model.spec.json"


def test_not_json(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        ModelSpec.load(p)
