"""Problems found in stories and saves, and the exceptions that carry them."""

from __future__ import annotations

from dataclasses import dataclass

from .textsafe import one_line


@dataclass(frozen=True, slots=True)
class Problem:
    """One error or warning at a place in a story file (line and column count from 1)."""

    file: str
    line: int
    column: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        # One line whatever the file's name or the message holds: a name can't forge a line.
        return f"{one_line(self.file)}:{self.line}:{self.column}: {self.severity}: {one_line(self.message)}"

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


class StoryError(Exception):
    """A story could not be loaded; `problems` lists every error (and warning) found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        first = str(errors[0]) if errors else "story could not be loaded"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first + more)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


class StoryRuntimeError(Exception):
    """The story reached a state it cannot go on from (a dead end, an endless loop, or a
    calculation beyond the limits that keep numbers finite)."""


class ChoiceError(ValueError):
    """A choice that does not exist or cannot be chosen now."""


class SaveError(Exception):
    """A save file that cannot be read, written or used; the message says why."""
