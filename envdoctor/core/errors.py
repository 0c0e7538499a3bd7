"""envdoctor's own exceptions. Each carries the exit code it ends the command with
(docs/exit-codes.md); the CLI's main() catches them once and prints their one line. Raise them
anywhere below the CLI: a core says what went wrong, never how the process ends."""
from __future__ import annotations

from envdoctor.core.exitcodes import EXIT_CANNOT_CHECK, EXIT_USAGE


class EnvdoctorError(Exception):
    """A problem envdoctor can state in one line: `envdoctor: <message>` on stderr, then exit_code."""

    exit_code = EXIT_CANNOT_CHECK

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(EnvdoctorError):
    """What was asked cannot be done as asked: an option, a version, a model or a GPU name (exit 4)."""

    exit_code = EXIT_USAGE


class InputError(EnvdoctorError):
    """A file or stream given to read is not what it should be (exit 3; under --json still one document)."""


class DataError(EnvdoctorError):
    """A data file envdoctor ships or reads is corrupt; the message names file and line (exit 3)."""
