"""Dense score maps of convolutionalized classifiers, drawn as a heatmap over the video.

``lanecam convolutionalize CLASSIFIER -o OUT.keras --input-size HxW --onnx OUT.onnx`` writes
the model with its ``HeatmapSpec`` embedded; ``lanecam run ... --heatmap OUT.onnx`` blends
the score of its lane class under the lane overlay. numpy + OpenCV (+ ONNX Runtime, imported
when a session opens): no TensorFlow.
"""

from lanecam.pipeline.heatmap.model import HeatmapModel, channel_softmax
from lanecam.pipeline.heatmap.overlay import HeatmapOverlay, cell_to_frame
from lanecam.pipeline.heatmap.spec import HEATMAP_METADATA_KEY, HeatmapSpec

__all__ = ["HeatmapSpec", "HeatmapModel", "HeatmapOverlay", "HEATMAP_METADATA_KEY",
           "cell_to_frame", "channel_softmax"]
