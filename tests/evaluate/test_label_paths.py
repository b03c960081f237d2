"""Label paths stay inside their root (issue 25 #17).

A TuSimple label line whose ``raw_file`` is ``../../../../etc/passwd`` (or ``/etc/passwd``)
was opened outside ``--tusimple-root`` by ``lanecam train`` (then refused only as "not an
image") and outside the folder by ``lanecam evaluate --tusimple``. Both refuse such a line now,
naming the label file and line, before any image is opened.
"""

import json

import pytest

from lanecam.pipeline.errors import InputError
from lanecam.tools.evaluate.datasets import load_tusimple
from lanecam.tools.evaluate.tusimple import image_path

ESCAPES = ["../../../../etc/passwd", "/etc/passwd", "images/../../outside.jpg",
           "..\\..\\outside.jpg"]


def _labels(folder, raw_file):
    folder.mkdir(exist_ok=True)
    (folder / "labels.json").write_text(json.dumps(
        {"raw_file": raw_file, "lanes": [[-2, 10]], "h_samples": [100, 110]}) + "\n")
    return folder / "labels.json"


@pytest.mark.parametrize("raw_file", ESCAPES)
def test_evaluate_refuses_a_label_outside_its_folder(tmp_path, raw_file):
    folder = tmp_path / "set"
    _labels(folder, raw_file)
    (tmp_path / "outside.jpg").write_bytes(b"\xff\xd8 not opened")
    with pytest.raises(InputError, match="labels.json: line 1: raw_file .* not a path inside"):
        load_tusimple(folder)


@pytest.mark.parametrize("raw_file", ESCAPES)
def test_training_refuses_a_label_outside_its_root(tmp_path, raw_file):
    from lanecam.engines.modelspec import ModelSpec
    from lanecam.tools.train.data import SampleMaker, TuSimpleSource

    labels = _labels(tmp_path / "root", raw_file)
    (tmp_path / "outside.jpg").write_bytes(b"\xff\xd8 not opened")
    spec = ModelSpec(input_height=128, input_width=320)
    with pytest.raises(InputError, match="line 1: raw_file .* not a path inside"):
        TuSimpleSource(SampleMaker(spec), [labels], tmp_path / "root")


def test_paths_inside_the_root_are_fine(tmp_path):
    assert image_path(tmp_path, "clips/0601/1.jpg", "x") == tmp_path / "clips/0601/1.jpg"
    assert image_path(tmp_path, "clips/./a..b.jpg", "x") == tmp_path / "clips/a..b.jpg"
