"""Reads about people that more than one channel needs."""

from servicedesk.accounts.models import CustomerRole, User, UserQuerySet


def is_customer_admin(user) -> bool:
    """An active customer administrator of an organisation: who manages its contacts."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and not user.is_staff
        and user.organisation_id
        and user.customer_role == CustomerRole.CUSTOMER_ADMIN
    )


def managed_contacts(user) -> UserQuerySet:
    """The contacts ``user`` manages: their organisation's, for a customer administrator;
    nobody for anyone else (staff manage people in the admin)."""
    if not is_customer_admin(user):
        return User.objects.none()
    return User.objects.visible_to(user).filter(organisation_id=user.organisation_id)
