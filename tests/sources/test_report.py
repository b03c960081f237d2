"""What ``lanecam run`` reports about skipped input: the stderr text and the --stats field."""

import json

import numpy as np
import cv2

from lanecam.pipeline.sources.damage import skip_report
from lanecam.pipeline.metrics import Metrics
from lanecam.pipeline.sources import ReadStatus, open_source


def test_unreadable_images_are_named_in_the_report_and_stats(tmp_path):
    cv2.imwrite(str(tmp_path / "0.png"), np.zeros((24, 32, 3), np.uint8))
    (tmp_path / "1.png").write_bytes(b"junk")
    with open_source(str(tmp_path)) as src:
        while src.read()[0] is ReadStatus.OK:
            pass
    report = skip_report(src)
    assert report["skipped"] == 1 and report["ranges"] == [[1, 1]]
    assert report["unit"] == "images" and "1.png" in report["text"]
    metrics = Metrics()
    metrics.source_report = report
    assert json.loads(json.dumps(metrics.summary()))["source"]["files"][0].endswith("1.png")


def test_clean_source_reports_nothing(tmp_path):
    cv2.imwrite(str(tmp_path / "0.png"), np.zeros((24, 32, 3), np.uint8))
    with open_source(str(tmp_path)) as src:
        src.read()
    assert skip_report(src) is None and "source" not in Metrics().summary()
