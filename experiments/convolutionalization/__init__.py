"""The convolutionalization experiment: a Dense classifier head against its convolutional
versions, measured on road-renderer patches (``docs/convolutionalization.md``).

Run from the repository root: ``python -m experiments.convolutionalization.experiment --help``.
It uses the shipped converter (``lanecam.tools.convolutionalize``); nothing in ``lanecam``
imports this package.
"""
