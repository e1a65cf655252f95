"""Domain exceptions. They carry machine codes, never user-facing prose or private data;
the web layer turns them into localized problem documents."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


class KommenteraError(Exception):
    """Base of every error the domain raises on purpose."""


class ConfigError(KommenteraError):
    """A KOMMENTERA_* variable is missing or malformed; the message names it."""


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    # dataclasses.field: the name `field` is this class's first field.
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


class InvalidFieldsError(KommenteraError):
    """One or more input fields are invalid; carries all of them at once."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(", ".join(f"{e.field}:{e.code}" for e in errors))
        self.errors = errors


class NotFoundError(KommenteraError):
    """The requested comment does not exist (or is not visible to this caller)."""


class VersionConflictError(KommenteraError):
    """The comment changed since the caller last read it (If-Match failed)."""

    def __init__(self, current_version: int) -> None:
        super().__init__(f"current version is {current_version}")
        self.current_version = current_version


class CommentsClosedError(KommenteraError):
    """The thread no longer takes comments (closed by a moderator or by age)."""


class DuplicateCommentError(KommenteraError):
    """The same author already left the same comment in the same place."""


class FloodError(KommenteraError):
    """The same IP or e-mail commented too recently; retry_after is in whole seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after
