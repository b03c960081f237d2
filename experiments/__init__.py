"""One-off research code, outside the shipped ``lanecam`` package; run from the repository root
(``python -m experiments.<name>.<script>``). See ``experiments/README.md``."""
