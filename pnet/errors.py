"""Errors that reach the person as one line: where, what is wrong, what was expected."""

from __future__ import annotations


class InputError(Exception):
    """Bad input: a file that cannot be read or does not describe a workspace.

    Rendered as `FILE:LINE: message`; front ends print it on one line and exit 2.
    """

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        return f"{where}{self.message}"


class SourceError(Exception):
    """The source could not be read: the network failed, or the platform's API answered 5xx,
    kept rate limiting, or sent something that is not its documented JSON, after the retries.

    Rendered as `WHERE: message`; front ends print it on one line and exit 3.
    """

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message
