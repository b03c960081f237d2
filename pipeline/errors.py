"""One exception hierarchy for problems the user can fix, kept apart from internal bugs.

The CLI prints a ``LanecamError`` as one line and exits with its ``exit_code``; any other
exception is a bug and keeps its traceback.
"""

__all__ = ["LanecamError", "InputError", "MissingDependencyError", "PipelineError"]


class LanecamError(Exception):
    """A user-facing error: the message names the input and what was expected."""

    exit_code = 1


class InputError(LanecamError):
    """Bad input or usage: missing file, wrong format, invalid option value."""

    exit_code = 2


class MissingDependencyError(LanecamError):
    """An optional library is not installed; the message names the extra to install."""

    exit_code = 2

    def __init__(self, module: str, extra: str, purpose: str = ""):
        self.module = module
        self.extra = extra
        what = f" (needed for {purpose})" if purpose else ""
        super().__init__(
            f"{module} is not installed{what}: pip install \"lanecam[{extra}]\""
        )


class PipelineError(LanecamError):
    """A stage of the running pipeline failed; ``stage`` names it."""

    exit_code = 1

    def __init__(self, stage: str, message: str):
        self.stage = stage
        super().__init__(f"stage '{stage}' failed: {message}")
