"""Inviting contacts to the portal: from the admin's Contacts page ("Invite to the portal")
and through the services the portal's people page calls; a contact who never had a password
chooses one through the invitation's link, which works once."""

import re

import pytest

from servicedesk.accounts import services
from servicedesk.accounts.models import CustomerRole, User
from servicedesk.core.errors import Conflict, NotFound, PermissionDenied
from servicedesk.mail.models import OutboxMessage
from tests.factories import CustomerFactory

LINK = re.compile(r"https?://[^/\s]+(/password/reset/[^/\s]+/[^/\s]+/)")


def _invite_in_admin(client, *contacts):
    return client.post(
        "/admin/accounts/contact/",
        {"action": "invite_to_portal", "_selected_action": [c.pk for c in contacts]},
        follow=True,
    )


def _link(email: str) -> str:
    mail = OutboxMessage.objects.get(to=[email])
    return LINK.search(mail.body_text)[1]


@pytest.fixture
def dana(org_a):
    """A contact made from an email: no usable password."""
    contact = services.create_contact(email="dana@alpha.example", name="Dana", organisation=org_a)
    assert not contact.has_usable_password()
    return contact


def test_staff_invite_contacts_from_the_admin(admin_client, dana, bob):
    response = _invite_in_admin(admin_client, dana, bob)

    assert response.status_code == 200
    assert "2 contacts invited to the portal." in response.content.decode()
    assert OutboxMessage.objects.filter(to=[dana.email]).count() == 1
    assert OutboxMessage.objects.filter(to=[bob.email]).count() == 1


def test_an_inactive_contact_is_not_invited(admin_client, dana):
    dana.is_active = False
    dana.save()

    response = _invite_in_admin(admin_client, dana)

    assert "1 inactive contact was not invited." in response.content.decode()
    assert not OutboxMessage.objects.filter(to=[dana.email]).exists()


def test_a_contact_without_a_password_chooses_one_with_the_link_and_signs_in(
    admin_client, client, dana
):
    _invite_in_admin(admin_client, dana)
    form_page = client.get(_link(dana.email), follow=True)  # Django moves the token to the session

    chosen = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a long new passphrase", "new_password2": "a long new passphrase"},
    )
    signed_in = client.post("/login/", {"email": dana.email, "password": "a long new passphrase"})

    assert form_page.context["validlink"] is True
    assert chosen.status_code == 302
    assert signed_in["Location"] == "/portal/"


def test_the_invitation_link_works_once(admin_client, client, dana):
    _invite_in_admin(admin_client, dana)
    link = _link(dana.email)
    form_page = client.get(link, follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a long new passphrase", "new_password2": "a long new passphrase"},
    )

    again = client.get(link, follow=True)

    assert again.context["validlink"] is False


def test_the_invitation_is_in_the_contacts_language(admin_client, org_b):
    kari = services.create_contact(email="kari@bravo.example", organisation=org_b)

    _invite_in_admin(admin_client, kari)

    mail = OutboxMessage.objects.get(to=[kari.email])
    assert kari.language == "nb"
    assert "/password/reset/" in mail.body_text


def test_only_a_customer_administrator_invites_through_the_service(bob, charlie):
    for someone in (bob, charlie):
        with pytest.raises(PermissionDenied):
            services.invite_contact(by=someone, email="new@alpha.example", role="end_user")

    assert not User.objects.filter(email="new@alpha.example").exists()


def test_a_customer_administrator_cannot_change_another_organisations_contact(bob_admin, charlie):
    with pytest.raises(NotFound):
        services.change_role(by=bob_admin, contact=charlie, role=CustomerRole.END_USER)

    charlie.refresh_from_db()
    assert charlie.customer_role == CustomerRole.LOGGER


def test_the_last_customer_administrator_is_kept(bob_admin, org_a):
    inactive = CustomerFactory(
        organisation=org_a, customer_role=CustomerRole.CUSTOMER_ADMIN, is_active=False
    )

    with pytest.raises(Conflict):
        services.change_role(by=bob_admin, contact=bob_admin, role=CustomerRole.LOGGER)

    bob_admin.refresh_from_db()
    assert bob_admin.customer_role == CustomerRole.CUSTOMER_ADMIN
    assert inactive.customer_role == CustomerRole.CUSTOMER_ADMIN
