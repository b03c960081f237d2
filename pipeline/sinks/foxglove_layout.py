"""The Foxglove layout for lanecam's channels: the camera with the lanes drawn, plots of the
lateral offset, curvature radius and departure side, and the raw results.

Built with the Foxglove SDK's typed layouts (``foxglove.layouts``) from the same topic names
the sinks write, so the shipped file (``docs/foxglove-layout.json``, imported in Foxglove with
"Import from file...") cannot drift from them; a test compares the two. Regenerate it with
``python -m lanecam.pipeline.sinks.foxglove_layout > docs/foxglove-layout.json``.
"""

import json

from lanecam.pipeline.lazy import require
from lanecam.pipeline.sinks.foxglove_msgs import TOPICS

__all__ = ["lanecam_layout", "layout_json"]


def lanecam_layout():
    """The layout as a ``foxglove.layouts.Layout``."""
    fl = require("foxglove.layouts", "robotics", "the Foxglove layout")
    image = fl.ImagePanel(title="camera and lanes", config=fl.ImageConfig(
        image_mode=fl.ImageModeConfig(
            image_topic=TOPICS["image"],
            annotations={TOPICS["annotations"]: fl.ImageAnnotationSettings(visible=True)})))
    geometry = TOPICS["geometry"]

    def plot(title, field, label):
        return fl.PlotPanel(title=title, config=fl.PlotConfig(
            paths=[fl.PlotSeries(value=f"{geometry}.{field}", label=label)],
            show_legend=True, y_axis_label=label))

    plots = fl.SplitContainer(direction="column", items=[
        fl.SplitItem(content=plot("lateral offset", "offset_m", "offset (m)")),
        fl.SplitItem(content=plot("curvature", "curvature_radius_m", "radius (m)")),
        fl.SplitItem(content=plot("lane departure", "departure_side",
                                  "departure (-1 left, 1 right)")),
        fl.SplitItem(content=fl.RawMessagesPanel(
            title="lane result", config=fl.RawMessagesConfig(topic_path=TOPICS["result"]))),
    ])
    return fl.Layout(content=fl.SplitContainer(direction="row", items=[
        fl.SplitItem(proportion=3, content=image), fl.SplitItem(proportion=2, content=plots)]))


def layout_json() -> str:
    """The layout as the indented JSON text of ``docs/foxglove-layout.json``."""
    return json.dumps(json.loads(lanecam_layout().to_json()), indent=2) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(layout_json(), end="")
