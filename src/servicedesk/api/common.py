"""What every resource module of the API shares: the caller, roles, errors, ETags."""

import hashlib

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_noop

from servicedesk.accounts.models import StaffRole, User
from servicedesk.api.schemas import Error
from servicedesk.core.errors import DomainError, NotFound, PermissionDenied, Term
from servicedesk.tickets.models import Ticket
from servicedesk.tickets.references import format_reference, parse_reference

# Documented on every operation, so the schema says what a client may get back.
ERRORS = {400: Error, 401: Error, 404: Error, 422: Error, 429: Error}
CHANGE_ERRORS = {**ERRORS, 403: Error, 409: Error, 412: Error}

ADMIN_ROLES = (StaffRole.IT_ADMINISTRATOR, StaffRole.SUPPORT_MANAGER)


class PreconditionFailed(DomainError):
    code = "precondition_failed"


class InvalidReference(DomainError):
    code = "invalid_reference"


def reference(model, pk: int | None, field: str):
    """The ``model`` row a request names by id in ``field``: None for none, 422 if none has it.

    ``model`` may be a queryset (``Organisation.objects.visible_to(user)``): a row outside it
    is answered as one nobody has, so the answer tells nothing of what the caller cannot see."""
    if pk is None:
        return None
    rows = model if isinstance(model, QuerySet) else model.objects.all()
    found = rows.filter(pk=pk).first()
    if found is None:
        raise InvalidReference(
            gettext_noop("%(field)s: no %(what)s with id %(id)s."),
            field=field,
            what=Term(rows.model._meta.verbose_name_raw),
            id=pk,
        )
    return found


def ticket_number(name: str | int) -> int:
    """The number of the ticket a path or body names, as ``10064`` or ``SD-10064``.

    One that is no reference at all (``XX-1``, ``SD-abc``) names no ticket the caller may see:
    404 ``not_found``, as for a number nobody has, not a 422 that would tell the two apart."""
    prefix = settings.SERVICEDESK_TICKET_PREFIX
    number = parse_reference(str(name), prefix)
    if number is None:
        example = format_reference(10064, prefix)
        raise NotFound(
            gettext_noop("No ticket %(name)r: name it as 10064 or %(example)s."),
            name=str(name)[:40],
            example=example,
        )
    return number


def caller(request) -> User:
    return request.auth


def is_admin(user: User) -> bool:
    return user.is_staff and (user.is_superuser or user.staff_role in ADMIN_ROLES)


def require_staff(user: User) -> None:
    """Desk-only resources do not exist for customers: 404, never a 403 that confirms them."""
    if not user.is_staff:
        raise NotFound(gettext_noop("Not found."))


def require_admin(user: User) -> None:
    require_staff(user)
    if not is_admin(user):
        raise PermissionDenied(gettext_noop("Only administrators can change this."))


def etag(ticket: Ticket) -> str:
    """Changes with every change to the ticket (services always move ``updated_at``)."""
    version = f"{ticket.pk}:{ticket.updated_at.isoformat()}"
    return '"' + hashlib.sha256(version.encode()).hexdigest()[:20] + '"'


def locked_ticket(request, name: str | int) -> Ticket:
    """The ticket ``name`` names (``10064``, ``SD-10064``) under a row lock, as the caller may
    see it; checks ``If-Match``.

    Call inside ``transaction.atomic()``: the lock holds until the change is written, so
    nobody changes the ticket between the check and the change.
    """
    assert transaction.get_connection().in_atomic_block
    number = ticket_number(name)
    ticket = (
        Ticket.objects.visible_to(caller(request)).select_for_update().filter(number=number).first()
    )
    if ticket is None:
        raise NotFound(gettext_noop("No ticket numbered %(number)s."), number=number)
    expected = request.headers.get("If-Match")
    if expected:
        tags = {t.strip().removeprefix("W/") for t in expected.split(",")}
        if "*" not in tags and etag(ticket) not in tags:
            raise PreconditionFailed(
                gettext_noop(
                    "The ticket changed since you read it: read it again (its ETag) and retry."
                )
            )
    return ticket
