"""/portal/people/: a customer administrator's contacts, invitations and roles. Nobody else
has the page, and another organisation's contacts are not found."""

import pytest

from servicedesk.accounts.models import CustomerRole, User
from servicedesk.mail.models import OutboxMessage
from tests.factories import CustomerFactory


def _invitations(email: str):
    return OutboxMessage.objects.filter(to=[email], subject__contains="invited")


@pytest.fixture
def admin_signed_in(client, bob_admin):
    client.force_login(bob_admin)
    return client


def test_a_customer_administrator_sees_the_organisations_contacts_only(
    admin_signed_in, bob, charlie
):
    page = admin_signed_in.get("/portal/people/")

    assert page.status_code == 200
    assert bob.email in page.content.decode()
    assert charlie.email not in page.content.decode()


@pytest.mark.parametrize("who", ["bob", "charlie", "alice", "logger_a"])
def test_end_users_loggers_and_staff_get_not_found(client, who, request, org_a):
    if who == "logger_a":
        person = CustomerFactory(organisation=org_a, customer_role=CustomerRole.LOGGER)
    else:
        person = request.getfixturevalue(who)
    client.force_login(person)

    assert client.get("/portal/people/").status_code == 404
    assert client.post("/portal/people/invite/", {"email": "x@alpha.example"}).status_code == 404
    assert not User.objects.filter(email="x@alpha.example").exists()


def test_a_stranger_is_asked_to_sign_in(client):
    response = client.get("/portal/people/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_inviting_someone_makes_a_contact_and_mails_them_a_link_to_choose_a_password(
    admin_signed_in, org_a, client
):
    response = admin_signed_in.post(
        "/portal/people/invite/",
        {"email": "Dana@Partner.example", "full_name": "Dana Doe", "role": CustomerRole.LOGGER},
    )

    dana = User.objects.get(email="dana@partner.example")
    assert response.status_code == 302
    assert (dana.organisation, dana.customer_role, dana.full_name) == (
        org_a,
        CustomerRole.LOGGER,
        "Dana Doe",
    )
    assert not dana.has_usable_password()
    (mail,) = _invitations(dana.email)
    assert "/password/reset/" in mail.body_text


def test_an_address_of_another_organisation_is_refused_with_a_reason(admin_signed_in, charlie):
    response = admin_signed_in.post(
        "/portal/people/invite/", {"email": charlie.email, "role": CustomerRole.END_USER}
    )

    assert response.status_code == 400
    assert "belongs to someone outside your organisation" in response.content.decode()
    charlie.refresh_from_db()
    assert charlie.organisation.name == "Bravo Retail AS"
    assert not _invitations(charlie.email).exists()


def test_a_staff_address_is_refused(admin_signed_in, alice):
    response = admin_signed_in.post(
        "/portal/people/invite/", {"email": alice.email, "role": CustomerRole.CUSTOMER_ADMIN}
    )

    assert response.status_code == 400
    alice.refresh_from_db()
    assert (alice.is_staff, alice.organisation_id, alice.customer_role) == (True, None, "")
    assert not _invitations(alice.email).exists()


def test_a_contact_already_in_the_organisation_is_pointed_to_the_list(admin_signed_in, bob):
    response = admin_signed_in.post(
        "/portal/people/invite/", {"email": bob.email, "role": CustomerRole.CUSTOMER_ADMIN}
    )

    assert response.status_code == 400
    assert "already one of your contacts" in response.content.decode()
    bob.refresh_from_db()
    assert bob.customer_role == CustomerRole.END_USER


def test_a_contact_of_no_organisation_joins_it(admin_signed_in, org_a):
    loose = CustomerFactory(email="dana@gmail.example", organisation=None)

    admin_signed_in.post(
        "/portal/people/invite/", {"email": loose.email, "role": CustomerRole.END_USER}
    )

    loose.refresh_from_db()
    assert loose.organisation == org_a
    assert _invitations(loose.email).count() == 1


def test_changing_a_contacts_role(admin_signed_in, bob):
    response = admin_signed_in.post(f"/portal/people/{bob.pk}/role/", {"role": CustomerRole.LOGGER})

    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.customer_role == CustomerRole.LOGGER


def test_the_last_customer_administrator_cannot_step_down(admin_signed_in, bob_admin):
    admin_signed_in.post(f"/portal/people/{bob_admin.pk}/role/", {"role": CustomerRole.END_USER})

    bob_admin.refresh_from_db()
    page = admin_signed_in.get("/portal/people/")
    assert bob_admin.customer_role == CustomerRole.CUSTOMER_ADMIN
    assert "last customer administrator" in page.content.decode()


def test_with_a_second_administrator_one_may_step_down(admin_signed_in, bob_admin, org_a):
    CustomerFactory(organisation=org_a, customer_role=CustomerRole.CUSTOMER_ADMIN)

    admin_signed_in.post(f"/portal/people/{bob_admin.pk}/role/", {"role": CustomerRole.END_USER})

    bob_admin.refresh_from_db()
    assert bob_admin.customer_role == CustomerRole.END_USER
    assert admin_signed_in.get("/portal/people/").status_code == 404  # no longer theirs


def test_an_unknown_role_changes_nothing(admin_signed_in, bob):
    admin_signed_in.post(f"/portal/people/{bob.pk}/role/", {"role": "superuser"})

    bob.refresh_from_db()
    assert bob.customer_role == CustomerRole.END_USER


def test_sending_an_invitation_again(admin_signed_in, bob):
    response = admin_signed_in.post(f"/portal/people/{bob.pk}/invite/")

    assert response.status_code == 302
    assert _invitations(bob.email).count() == 1


def test_another_organisations_contact_is_not_found_and_unchanged(admin_signed_in, charlie):
    role = admin_signed_in.post(f"/portal/people/{charlie.pk}/role/", {"role": "end_user"})
    resend = admin_signed_in.post(f"/portal/people/{charlie.pk}/invite/")

    assert (role.status_code, resend.status_code) == (404, 404)
    charlie.refresh_from_db()
    assert charlie.customer_role == CustomerRole.LOGGER
    assert not _invitations(charlie.email).exists()


def test_staff_are_not_found_through_the_page(admin_signed_in, alice):
    assert admin_signed_in.post(f"/portal/people/{alice.pk}/invite/").status_code == 404
    assert (
        admin_signed_in.post(f"/portal/people/{alice.pk}/role/", {"role": "end_user"}).status_code
        == 404
    )


def test_the_portal_header_offers_people_to_customer_administrators_only(client, bob, bob_admin):
    client.force_login(bob_admin)
    assert 'href="/portal/people/"' in client.get("/portal/").content.decode()
    client.force_login(bob)
    assert 'href="/portal/people/"' not in client.get("/portal/").content.decode()
