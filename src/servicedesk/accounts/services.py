"""Verbs on people that more than one channel needs."""

from django.conf import settings
from django.db import IntegrityError, transaction

from servicedesk.accounts.models import CustomerRole, EmailDomain, User


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


def contact_for_email(email: str, *, name: str = "") -> User:
    """The person who writes from ``email``: an existing user, or a new contact (who cannot
    log in until invited), placed in the organisation that owns the address's domain."""
    email = email.strip().lower()
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        return existing
    owner = organisation_domain(email)
    organisation = owner.organisation if owner else None
    contact = User(
        email=email,
        full_name=name[: User._meta.get_field("full_name").max_length],
        organisation=organisation,
        customer_role=CustomerRole.END_USER,
        language=organisation.language if organisation else settings.LANGUAGE_CODE,
        timezone=organisation.timezone if organisation else settings.TIME_ZONE,
    )
    contact.set_unusable_password()
    try:
        with transaction.atomic():  # a savepoint: another process may create them first
            contact.save()
    except IntegrityError:
        return User.objects.get(email=email)
    return contact
