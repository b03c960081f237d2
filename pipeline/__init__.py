"""lanecam runtime: frames and ring buffers, threaded stages, sources, sinks, preprocessing,
lane postprocessing and geometry, overlay, metrics and the ``lanecam`` CLI.

Never imports TensorFlow: a Jetson runs this with numpy, OpenCV and TensorRT alone.
"""

from lanecam.pipeline.errors import InputError, LanecamError, MissingDependencyError, PipelineError

__all__ = ["LanecamError", "InputError", "MissingDependencyError", "PipelineError"]
__version__ = "0.1.0"
