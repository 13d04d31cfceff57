"""Domain errors: raised by services and rules, shown by every caller in the reader's language.

Each carries a machine-readable ``code``, an English ``template`` with named ``params``, and
the English ``message`` they make (``str(error)``: logs and tests read it). Callers that show
the error to a person call ``localized()``: the template through the catalogue, then the
params. The API maps the classes to HTTP statuses, the pages to form errors, the CLI to a
message and a non-zero exit.

Pure rules (workflow, triage, the business clock) raise these errors, so this module imports
no Django: ``gettext_noop`` below marks templates for ``makemessages`` (which finds calls by
their name), and Django's ``gettext`` is handed in once at start-up (``use_gettext``, called
by ``core.apps``). Raise as ``InvalidTicket(gettext_noop("Unknown channel %(channel)r."),
channel=channel)``.
"""

from collections.abc import Callable


def gettext_noop(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it (Django's, without Django)."""
    return message


class Term(str):
    """A parameter that is itself a catalogue entry (a status's name): shown translated."""

    __slots__ = ()


_gettext: Callable[[str], str] = gettext_noop


def use_gettext(gettext: Callable[[str], str]) -> None:
    """Translate ``localized()`` messages with ``gettext`` (Django's, in the active language)."""
    global _gettext
    _gettext = gettext


class DomainError(Exception):
    """A request the domain refuses. Nothing was changed.

    ``message`` is an English template, marked with ``gettext_noop``; its ``%(name)s``
    placeholders are filled from ``params`` (a ``Term`` is translated too, another
    ``DomainError`` is shown localized). Without params the message is taken as it is.
    """

    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, **params: object) -> None:
        self.template = message
        self.params = params
        self.message = message % params if params else message
        super().__init__(self.message)
        if code:
            self.code = code

    def __str__(self) -> str:
        return self.message

    def localized(self) -> str:
        """The message in the active language (English without a catalogue for it)."""
        template = _gettext(self.template)
        if not self.params:
            return template
        try:
            return template % {name: _localized(value) for name, value in self.params.items()}
        except (KeyError, TypeError, ValueError):  # a translation that lost a placeholder
            return self.message


def _localized(value: object) -> object:
    if isinstance(value, Term):
        return _gettext(value)
    if isinstance(value, DomainError):
        return value.localized()
    return value


class NotFound(DomainError):
    """The object does not exist or the caller may not see it (never tell which)."""

    code = "not_found"


class PermissionDenied(DomainError):
    """The caller may see the object but not do this to it."""

    code = "forbidden"


class Conflict(DomainError):
    """The move conflicts with the object's current state."""

    code = "conflict"
