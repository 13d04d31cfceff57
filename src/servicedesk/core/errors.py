"""Domain errors: raised by services and rules, shown by every caller as they are.

Each carries a machine-readable ``code`` and a human ``message``. The API maps the classes
to HTTP statuses, the pages to form errors, the CLI to a message and a non-zero exit.
"""


class DomainError(Exception):
    """A request the domain refuses. Nothing was changed."""

    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code

    def __str__(self) -> str:
        return self.message


class NotFound(DomainError):
    """The object does not exist or the caller may not see it (never tell which)."""

    code = "not_found"


class PermissionDenied(DomainError):
    """The caller may see the object but not do this to it."""

    code = "forbidden"


class Conflict(DomainError):
    """The move conflicts with the object's current state."""

    code = "conflict"
