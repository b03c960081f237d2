"""``python -m lanecam``: the ``lanecam`` command."""

import sys

from lanecam.pipeline.cli import main

sys.exit(main())
