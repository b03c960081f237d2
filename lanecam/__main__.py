"""``python -m lanecam`` and the ``lanecam`` console script: the ``lanecam`` command.

``run`` imports the command line inside a ``try``: a Ctrl-C while Python is still importing
it (before ``main`` routes the stop signals) is one line and exit 130, not a traceback.
"""

import sys


def run() -> int:
    """The ``lanecam`` command; returns its exit code."""
    try:
        from lanecam.pipeline.cli import main
    except KeyboardInterrupt:
        sys.stderr.write(" ".join(["lanecam", *sys.argv[1:2]]) + ": interrupted (SIGINT)\n")
        return 130
    return main()


if __name__ == "__main__":
    sys.exit(run())
