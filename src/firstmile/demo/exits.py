"""How the demo ends: its exit codes, and the error that stops it early."""

from __future__ import annotations

__all__ = ["EXIT_MISMATCH", "EXIT_OK", "EXIT_SERVER", "EXIT_USAGE", "DemoError"]

EXIT_OK = 0
EXIT_MISMATCH = 1  # the server stored something other than what was sent
EXIT_USAGE = 2  # the demo cannot run here (home folder, environment)
EXIT_SERVER = 3  # the server did not start, or failed while running


class DemoError(Exception):
    """Something that stops the demo, with what to do about it; ``exit_code`` says what."""

    def __init__(self, message: str, exit_code: int, log_tail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.log_tail = log_tail
