"""The people admin: contacts and staff on their own pages, each kept to its kind; pickers
that offer the right people; organisations counted without N+1; the admin for staff only."""

from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from servicedesk.accounts.models import Group, Organisation, StaffRole, User
from tests.factories import CustomerFactory, OrganisationFactory, StaffFactory, make_ticket
from tests.tickets.test_admin import form_data


def _listed(response) -> list:
    return list(response.context["cl"].result_list)


# -- who may come in -----------------------------------------------------------------------


def test_a_customer_cannot_log_in_to_the_admin(client, bob):
    response = client.post("/admin/login/", {"username": bob.email, "password": "pw"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_a_logged_in_customer_is_sent_to_the_login_page(client, bob):
    client.force_login(bob)

    response = client.get("/admin/tickets/ticket/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_log_in_with_their_email(client, alice):
    response = client.post("/admin/login/", {"username": alice.email, "password": "pw"})

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


# -- contacts and staff --------------------------------------------------------------------


def test_the_contact_list_shows_customers_only(admin_client, alice, bob, charlie):
    response = admin_client.get("/admin/accounts/contact/")

    assert {user.pk for user in _listed(response)} == {bob.pk, charlie.pk}


def test_the_staff_list_shows_staff_only(admin_client, alice, bob):
    response = admin_client.get("/admin/accounts/staff/")

    assert [user.pk for user in _listed(response)] == [alice.pk]


def test_a_customer_has_no_staff_page(admin_client, bob):
    response = admin_client.get(f"/admin/accounts/staff/{bob.pk}/change/")

    assert response.status_code == 302  # "does not exist", back to the index


def test_adding_a_contact_makes_a_customer_without_a_login(admin_client, org_a):
    response = admin_client.post(
        "/admin/accounts/contact/add/",
        {
            "email": "Dana.Caller@Alpha.example",
            "full_name": "Dana Caller",
            "phone": "+44 20 7946 0000",
            "organisation": org_a.pk,
            "customer_role": "end_user",
            "usable_password": "false",
            "is_staff": "on",  # not a field of this page: ignored
        },
    )

    assert response.status_code == 302
    dana = User.objects.get(email="dana.caller@alpha.example")
    assert (dana.is_staff, dana.is_superuser, dana.organisation) == (False, False, org_a)
    assert not dana.has_usable_password()


def test_adding_a_contact_with_a_password_lets_them_log_in_to_the_portal(admin_client, org_a):
    admin_client.post(
        "/admin/accounts/contact/add/",
        {
            "email": "erin@alpha.example",
            "organisation": org_a.pk,
            "customer_role": "logger",
            "usable_password": "true",
            "password1": "a long portal passphrase",
            "password2": "a long portal passphrase",
        },
    )

    erin = User.objects.get(email="erin@alpha.example")
    assert not erin.is_staff and erin.check_password("a long portal passphrase")


def test_an_email_in_use_is_refused_whatever_its_case(admin_client, bob):
    response = admin_client.post(
        "/admin/accounts/contact/add/",
        {"email": "BOB@alpha.example", "customer_role": "end_user", "usable_password": "false"},
    )

    assert response.status_code == 200
    assert "Someone already uses this email address." in response.content.decode()
    assert User.objects.filter(email__iexact="bob@alpha.example").count() == 1


def test_adding_staff_makes_a_member_of_staff_in_the_chosen_support_groups(admin_client):
    second_line = Group.objects.get(level="L2")

    response = admin_client.post(
        "/admin/accounts/staff/add/",
        {
            "email": "dev@desk.example",
            "full_name": "Dev Eloper",
            "staff_role": StaffRole.SOFTWARE_ENGINEER,
            "support_groups": [second_line.pk],
            "usable_password": "true",
            "password1": "a long staff passphrase",
            "password2": "a long staff passphrase",
        },
    )

    assert response.status_code == 302
    dev = User.objects.get(email="dev@desk.example")
    assert dev.is_staff and not dev.is_superuser
    assert list(dev.support_groups.all()) == [second_line]


def test_the_staff_page_changes_support_groups_through_the_groups_members(admin_client, alice):
    first_line, third_line = Group.objects.get(level="L1"), Group.objects.get(level="L3")
    first_line.members.add(alice)
    url = f"/admin/accounts/staff/{alice.pk}/change/"
    data = form_data(admin_client.get(url), "staff_form")
    assert data["support_groups"] == [str(first_line.pk)]
    data["support_groups"] = [str(third_line.pk)]

    response = admin_client.post(url, data)

    assert response.status_code == 302
    assert list(alice.support_groups.all()) == [third_line]
    assert list(third_line.members.all()) == [alice]


def test_the_contact_page_saves_a_contact_as_a_customer(admin_client, bob, org_b):
    url = f"/admin/accounts/contact/{bob.pk}/change/"
    data = form_data(admin_client.get(url), "contact_form")
    data.update(organisation=[str(org_b.pk)], timezone=["Europe/Oslo"], is_staff=["on"])

    response = admin_client.post(url, data)

    assert response.status_code == 302
    bob.refresh_from_db()
    assert (bob.organisation, bob.timezone, bob.is_staff) == (org_b, "Europe/Oslo", False)


def test_an_unknown_time_zone_is_refused(admin_client, bob):
    url = f"/admin/accounts/contact/{bob.pk}/change/"
    data = form_data(admin_client.get(url), "contact_form")
    data["timezone"] = ["Europe/Atlantis"]

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "Europe/Atlantis is not a known time zone" in response.content.decode()


# -- the people pickers --------------------------------------------------------------------


def _picked(client, model: str, field: str, term: str = "") -> set[str]:
    app = "tickets" if model == "ticket" else "accounts"
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": app, "model_name": model, "field_name": field, "term": term},
    )
    assert response.status_code == 200
    return {item["text"] for item in response.json()["results"]}


def test_the_requester_picker_offers_customers_only(admin_client, alice, bob, charlie):
    picked = _picked(admin_client, "ticket", "requester")

    assert picked == {str(bob), str(charlie)}


def test_the_assignee_picker_offers_active_staff_only(admin_client, alice, bob):
    StaffFactory(email="gone@desk.example", is_active=False)

    picked = _picked(admin_client, "ticket", "assignee")

    assert picked == {str(alice)}


def test_the_account_manager_picker_searches_staff(admin_client, alice, bob):
    StaffFactory(email="zoe@desk.example", full_name="Zoe Manager")

    picked = _picked(admin_client, "organisation", "account_manager", term="zoe")

    assert picked == {"Zoe Manager <zoe@desk.example>"}


def test_the_user_page_is_not_in_the_menu_and_sends_to_the_contact_or_staff_page(
    admin_client, bob, alice
):
    index = admin_client.get("/admin/").content.decode()

    assert "/admin/accounts/user/" not in index
    contact = admin_client.get(f"/admin/accounts/user/{bob.pk}/change/")
    assert contact["Location"] == f"/admin/accounts/contact/{bob.pk}/change/"
    staff = admin_client.get(f"/admin/accounts/user/{alice.pk}/change/")
    assert staff["Location"] == f"/admin/accounts/staff/{alice.pk}/change/"
    assert admin_client.get("/admin/accounts/user/add/").status_code == 403


# -- organisations and groups --------------------------------------------------------------


def test_the_organisation_list_counts_contacts_and_tickets(admin_client, org_a, bob, alice):
    colleague = CustomerFactory(organisation=org_a)
    make_ticket(requester=bob)
    make_ticket(requester=bob)
    make_ticket(requester=colleague)
    OrganisationFactory(name="Zulu Empty Ltd")

    response = admin_client.get("/admin/accounts/organisation/")

    counts = {org.name: (org.contacts_total, org.tickets_total) for org in _listed(response)}
    assert counts == {"Alpha Logistics Ltd": (2, 3), "Zulu Empty Ltd": (0, 0)}


def _queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_organisation_list_reads_many_organisations_in_as_few_queries_as_one(
    admin_client, org_a, bob
):
    make_ticket(requester=bob)
    with_one = _queries_for(admin_client, "/admin/accounts/organisation/")
    for _ in range(10):
        customer = CustomerFactory(organisation=OrganisationFactory(account_manager=StaffFactory()))
        make_ticket(requester=customer)

    assert _queries_for(admin_client, "/admin/accounts/organisation/") == with_one


def test_an_organisation_is_added_with_its_email_domains(admin_client, alice):
    response = admin_client.post(
        "/admin/accounts/organisation/add/",
        {
            "name": "Charlie Foods GmbH",
            "country": "de",
            "timezone": "Europe/Berlin",
            "language": "en",
            "account_manager": alice.pk,
            "email_domains-TOTAL_FORMS": "1",
            "email_domains-INITIAL_FORMS": "0",
            "email_domains-0-domain": "Charlie-Foods.DE",
        },
    )

    assert response.status_code == 302
    organisation = Organisation.objects.get(name="Charlie Foods GmbH")
    assert (organisation.country, organisation.account_manager) == ("DE", alice)
    assert list(organisation.email_domains.values_list("domain", flat=True)) == ["charlie-foods.de"]


def test_a_second_intake_group_is_refused_with_a_clear_error(admin_client):
    response = admin_client.post(
        "/admin/accounts/group/add/",
        {"name": "Night shift", "level": "L1", "is_default_intake": "on"},
    )

    assert response.status_code == 200
    assert "already receives new tickets; only one group can." in response.content.decode()
    assert not Group.objects.filter(name="Night shift").exists()


def test_group_members_are_chosen_among_active_staff(admin_client, alice, bob):
    group = Group.objects.get(level="L1")

    response = admin_client.get(f"/admin/accounts/group/{group.pk}/change/")

    members = response.context["adminform"].form.fields["members"].queryset
    assert alice in members and bob not in members


def test_staff_who_may_only_view_see_the_support_groups_by_name(client, alice, ticket_a):
    Group.objects.get(level="L1").members.add(alice)
    viewer = StaffFactory()
    viewer.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client.force_login(viewer)

    page = client.get(f"/admin/accounts/staff/{alice.pk}/change/").content.decode()

    assert "First line" in page and "accounts.Group.None" not in page
    assert client.get(f"/admin/tickets/ticket/{ticket_a.pk}/change/").status_code == 200


def test_a_contacts_password_is_set_on_its_own_page(admin_client, bob):
    url = f"/admin/accounts/contact/{bob.pk}/password/"
    assert admin_client.get(url).status_code == 200

    response = admin_client.post(
        url,
        {"password1": "a new portal passphrase", "password2": "a new portal passphrase"},
    )

    assert response["Location"] == f"/admin/accounts/contact/{bob.pk}/change/"
    bob.refresh_from_db()
    assert bob.check_password("a new portal passphrase")


def test_only_a_superuser_hands_out_superuser_status(client, alice):
    manager = StaffFactory(staff_role=StaffRole.SUPPORT_MANAGER)
    manager.user_permissions.set(Permission.objects.filter(codename__endswith="_staff"))
    client.force_login(manager)
    url = f"/admin/accounts/staff/{alice.pk}/change/"
    data = form_data(client.get(url), "staff_form")
    assert "is_superuser" not in data

    response = client.post(url, {**data, "is_superuser": "on", "full_name": "Alice A. Agent"})

    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.full_name, alice.is_superuser) == ("Alice A. Agent", False)
