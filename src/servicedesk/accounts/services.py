"""Verbs on people that more than one channel needs."""

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_noop

from servicedesk.accounts.models import CustomerRole, EmailDomain, Organisation, User
from servicedesk.accounts.selectors import is_customer_admin
from servicedesk.core.errors import Conflict, DomainError, NotFound, PermissionDenied


def organisation_domain(email: str) -> EmailDomain | None:
    """The organisation's domain that owns ``email`` (``mail.harbour.example`` falls under
    ``harbour.example``), the most specific first."""
    labels = email.rpartition("@")[2].lower().split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    found = {
        d.domain: d
        for d in EmailDomain.objects.filter(domain__in=candidates).select_related("organisation")
    }
    return next((found[c] for c in candidates if c in found), None)


def _new_contact(email: str, name: str, organisation) -> User:
    """An end user who writes to the desk, not yet saved: no usable password until invited,
    in the organisation's language and time zone."""
    contact = User(
        email=email,
        full_name=name[: User._meta.get_field("full_name").max_length],
        organisation=organisation,
        customer_role=CustomerRole.END_USER,
        language=organisation.language if organisation else settings.LANGUAGE_CODE,
        timezone=organisation.timezone if organisation else settings.TIME_ZONE,
    )
    contact.set_unusable_password()
    return contact


def contact_for_email(email: str, *, name: str = "") -> User:
    """The person who writes from ``email``: an existing user, or a new contact (who cannot
    log in until invited), placed in the organisation that owns the address's domain."""
    email = email.strip().lower()
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        return existing
    owner = organisation_domain(email)
    contact = _new_contact(email, name, owner.organisation if owner else None)
    try:
        with transaction.atomic():  # a savepoint: another process may create them first
            contact.save()
    except IntegrityError:
        return User.objects.get(email=email)
    return contact


def contacts_for_emails(names: dict[str, str]) -> dict[str, User]:
    """``contact_for_email`` for many addresses at once ({email: name}): existing users read
    in one query, the others created in one insert (for imports)."""
    names = {email.strip().lower(): name for email, name in names.items()}
    found = {u.email: u for u in User.objects.filter(email__in=list(names))}
    owners: dict[str, EmailDomain | None] = {}
    fresh = []
    for email, name in names.items():
        if email in found:
            continue
        domain = email.rpartition("@")[2]
        if domain not in owners:
            owners[domain] = organisation_domain(email)
        owner = owners[domain]
        fresh.append(_new_contact(email, name, owner.organisation if owner else None))
    User.objects.bulk_create(fresh, ignore_conflicts=True)
    if fresh:  # read back: ids, and whoever another process created meanwhile
        found.update({u.email: u for u in User.objects.filter(email__in=[c.email for c in fresh])})
    return found


class InvalidAccount(DomainError):
    code = "invalid_account"


_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidAccount(gettext_noop("Unknown time zone %(zone)r."), zone=name) from None
    return name


@transaction.atomic
def create_organisation(
    *,
    name: str,
    email_domains: list[str] = (),
    timezone: str = "Europe/London",
    language: str = "en",
    country: str = "",
    notes: str = "",
) -> Organisation:
    """A customer organisation and the email domains it owns (mail from them lands in it)."""
    name = " ".join(name.split())
    if not name:
        raise InvalidAccount(gettext_noop("An organisation needs a name."))
    if Organisation.objects.filter(name__iexact=name).exists():
        raise Conflict(
            gettext_noop("An organisation named %(name)r exists already."),
            code="duplicate",
            name=name,
        )
    domains = list(dict.fromkeys(d.strip().lower().lstrip("@") for d in email_domains))
    bad = [d for d in domains if not _DOMAIN.match(d)]
    if bad:
        raise InvalidAccount(
            gettext_noop("Not email domains: %(domains)s."), domains=", ".join(bad)
        )
    taken = list(EmailDomain.objects.filter(domain__in=domains).values_list("domain", flat=True))
    if taken:
        raise Conflict(
            gettext_noop("Domains owned by another organisation: %(domains)s."),
            code="duplicate",
            domains=", ".join(taken),
        )
    if language not in dict(settings.LANGUAGES):
        raise InvalidAccount(gettext_noop("Unknown language %(language)r."), language=language)
    if country and not re.fullmatch(r"[A-Za-z]{2}", country):
        raise InvalidAccount(gettext_noop("country: an ISO 3166 code of two letters, such as GB."))
    try:
        with transaction.atomic():  # a savepoint: a name or domain may be taken meanwhile
            organisation = Organisation.objects.create(
                name=name,
                timezone=_check_timezone(timezone),
                language=language,
                country=country.upper(),
                notes=notes,
            )
            EmailDomain.objects.bulk_create(
                [EmailDomain(organisation=organisation, domain=d) for d in domains]
            )
    except IntegrityError:
        raise Conflict(
            gettext_noop("That name or one of those domains is taken."), code="duplicate"
        ) from None
    return organisation


@transaction.atomic
def create_contact(
    *,
    email: str,
    name: str = "",
    organisation: Organisation | None = None,
    role: str = CustomerRole.END_USER,
    phone: str = "",
    language: str | None = None,
    timezone: str | None = None,
) -> User:
    """A customer contact; they cannot log in until invited (no usable password)."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise InvalidAccount(gettext_noop("Not an email address: %(email)r."), email=email)
    if role not in CustomerRole.values:
        raise InvalidAccount(gettext_noop("Unknown role %(role)r."), role=role)
    if role != CustomerRole.END_USER and organisation is None:
        raise InvalidAccount(
            gettext_noop("Loggers and customer administrators belong to an organisation.")
        )
    if User.objects.filter(email=email).exists():
        raise Conflict(gettext_noop("%(email)s is already a user."), code="duplicate", email=email)
    language = language or (organisation.language if organisation else settings.LANGUAGE_CODE)
    if language not in dict(settings.LANGUAGES):
        raise InvalidAccount(gettext_noop("Unknown language %(language)r."), language=language)
    contact = User(
        email=email,
        full_name=name.strip(),
        phone=phone.strip(),
        organisation=organisation,
        customer_role=role,
        language=language,
        timezone=_check_timezone(
            timezone or (organisation.timezone if organisation else settings.TIME_ZONE)
        ),
    )
    contact.set_unusable_password()
    try:
        with transaction.atomic():  # a savepoint: someone may have made them meanwhile
            contact.save()
    except IntegrityError:
        raise Conflict(
            gettext_noop("%(email)s is already a user."), code="duplicate", email=email
        ) from None
    return contact


# ---- The customer administrator's people ------------------------------------------------


def _check_manager(by: User) -> None:
    if not is_customer_admin(by):
        raise PermissionDenied(
            gettext_noop("Only a customer administrator manages the organisation's contacts.")
        )


@transaction.atomic
def invite_contact(*, by: User, email: str, full_name: str = "", role: str) -> User:
    """A contact of ``by``'s organisation, made by its customer administrator, who is then
    sent an invitation to choose a password (by the caller: accounts sends no mail).

    The address's domain need not be the organisation's. An address that belongs to staff,
    to another organisation or already to this one is refused; a contact of no organisation
    (someone who wrote to the desk from an address no organisation owns) joins this one."""
    _check_manager(by)
    email = email.strip().lower()
    if role not in CustomerRole.values:
        raise InvalidAccount(gettext_noop("Unknown role %(role)r."), role=role)
    existing = User.objects.select_for_update().filter(email=email).first()
    if existing is None:
        return create_contact(email=email, name=full_name, organisation=by.organisation, role=role)
    if existing.is_staff or (
        existing.organisation_id and existing.organisation_id != by.organisation_id
    ):
        raise Conflict(
            gettext_noop(
                "%(email)s belongs to someone outside your organisation. Ask the service "
                "desk if they should move to it."
            ),
            code="duplicate",
            email=email,
        )
    if existing.organisation_id == by.organisation_id:
        raise Conflict(
            gettext_noop(
                "%(email)s is already one of your contacts: send their invitation again "
                "from the list."
            ),
            code="duplicate",
            email=email,
        )
    existing.organisation = by.organisation
    existing.customer_role = role
    existing.full_name = existing.full_name or full_name.strip()
    existing.save(update_fields=["organisation", "customer_role", "full_name"])
    return existing


@transaction.atomic
def change_role(*, by: User, contact: User, role: str) -> User:
    """Give ``contact`` another customer role (end user, designated logger, customer
    administrator). Only a customer administrator of the contact's organisation may, and
    the organisation keeps at least one active customer administrator."""
    _check_manager(by)
    if contact.is_staff or contact.organisation_id != by.organisation_id:
        raise NotFound(gettext_noop("No such contact."))
    if role not in CustomerRole.values:
        raise InvalidAccount(gettext_noop("Unknown role %(role)r."), role=role)
    # Lock the organisation's administrators: two of them demoting each other at once must
    # not leave it with none.
    admins = list(
        User.objects.select_for_update()
        .filter(
            organisation_id=by.organisation_id,
            customer_role=CustomerRole.CUSTOMER_ADMIN,
            is_active=True,
            is_staff=False,
        )
        .values_list("pk", flat=True)
    )
    contact = User.objects.select_for_update().get(pk=contact.pk)
    if contact.customer_role == role:
        return contact
    if role != CustomerRole.CUSTOMER_ADMIN and set(admins) <= {contact.pk}:
        raise Conflict(
            gettext_noop(
                "%(email)s is the organisation's last customer administrator: make someone "
                "else one first."
            ),
            code="last_admin",
            email=contact.email,
        )
    contact.customer_role = role
    contact.save(update_fields=["customer_role"])
    return contact
