"""Dense heads to convolutions: a Flatten -> Dense classifier becomes a fully convolutional
model with the same outputs on its input size and a dense score map on larger inputs.

Keras is imported inside the functions that need it, so importing this package is cheap.

    from lanecam.tools.convolutionalize import convolutionalize
    result = convolutionalize("classifier.h5", input_size=(128, 320))
    result.model.save("dense_map.keras")
"""

from lanecam.tools.convolutionalize.build import build_convolutional, dense_to_conv_kernel
from lanecam.tools.convolutionalize.convert import (ConversionCheckError, ConversionResult,
                                            convolutionalize, load_classifier)
from lanecam.tools.convolutionalize.graph import HeadPlan, analyse

__all__ = ["ConversionCheckError", "ConversionResult", "HeadPlan", "analyse",
           "build_convolutional", "convolutionalize", "dense_to_conv_kernel", "load_classifier"]
