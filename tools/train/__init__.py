"""Training the lane FCN on road-renderer frames (``lanecam train``); TensorFlow is imported
only by the functions that need it."""
