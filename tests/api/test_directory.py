"""Organisations, contacts and the desk's configuration: staff read, administrators write."""

import pytest

from servicedesk.accounts.models import EmailDomain, Organisation, User
from servicedesk.tickets.models import Product

pytestmark = pytest.mark.django_db


def test_an_administrator_creates_an_organisation_that_then_owns_its_mail_domains(api_admin):
    response = api_admin.post(
        "/organisations",
        {
            "name": "Nordlys Energi AS",
            "email_domains": ["Nordlys.example", "@nordlys-energi.example"],
            "timezone": "Europe/Oslo",
            "language": "nb",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    organisation = Organisation.objects.get(pk=body["id"])
    assert sorted(body["email_domains"]) == ["nordlys-energi.example", "nordlys.example"]
    assert (organisation.timezone, organisation.language) == ("Europe/Oslo", "nb")
    ticket = api_admin.post(
        "/tickets", {"subject": "Hei", "requester_email": "kari@mail.nordlys.example"}
    ).json()
    assert ticket["organisation"]["id"] == organisation.pk
    assert api_admin.get(f"/organisations/{organisation.pk}").json() == body


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"name": "Alpha Logistics Ltd"}, 409),  # org_a's name
        ({"name": "New", "email_domains": ["alpha.example"]}, 409),  # org_a's domain
        ({"name": "New", "email_domains": ["not a domain"]}, 422),
        ({"name": "New", "timezone": "Mars/Olympus"}, 422),
        ({"name": "New", "language": "de"}, 422),
        ({"name": "   "}, 422),
        ({}, 422),
    ],
)
def test_bad_organisations_are_refused_and_nothing_is_made(api_admin, org_a, payload, status):
    EmailDomain.objects.create(organisation=org_a, domain="alpha.example")
    response = api_admin.post("/organisations", payload)
    assert response.status_code == status, response.content
    assert Organisation.objects.count() == 1 and EmailDomain.objects.count() == 1


def test_contacts_are_created_with_their_role_in_their_organisation(api_admin, org_a):
    response = api_admin.post(
        "/contacts",
        {"email": "Eve@Alpha.example", "name": "Eve", "organisation": org_a.pk, "role": "logger"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    eve = User.objects.get(pk=body["id"])
    assert (eve.email, eve.customer_role, eve.organisation) == (
        "eve@alpha.example",
        "logger",
        org_a,
    )
    assert not eve.is_staff and not eve.has_usable_password()
    assert api_admin.post("/contacts", {"email": "eve@alpha.example"}).status_code == 409
    assert (
        api_admin.post("/contacts", {"email": "x@y.example", "organisation": 999999}).status_code
        == 422
    )
    assert api_admin.post("/contacts", {"email": "x@y.example", "role": "staff"}).status_code == 422
    assert (
        api_admin.post("/contacts", {"email": "x@y.example", "role": "logger"}).status_code == 422
    )
    assert not User.objects.filter(email="x@y.example").exists()


def test_only_administrators_write_and_customers_do_not_see_the_desks_configuration(
    api_alice, api_bob, api_bob_admin, org_a, org_b, bob, charlie
):
    assert api_alice.post("/organisations", {"name": "Z"}).status_code == 403
    assert api_alice.post("/products", {"name": "Z"}).status_code == 403
    assert api_bob_admin.post("/contacts", {"email": "z@alpha.example"}).status_code == 404
    for path in ("/products", "/categories", "/groups", "/calendars", "/sla-policies"):
        assert api_alice.get(path).status_code == 200, path
        assert api_bob.get(path).status_code == 404, path
    assert {o["id"] for o in api_alice.get("/organisations").json()} >= {org_a.pk, org_b.pk}
    assert [o["id"] for o in api_bob.get("/organisations").json()] == [org_a.pk]
    assert api_bob.get(f"/organisations/{org_b.pk}").status_code == 404
    assert [c["id"] for c in api_bob.get("/contacts").json()] == [bob.pk]
    assert bob.pk in {c["id"] for c in api_bob_admin.get("/contacts").json()}
    assert charlie.pk not in {c["id"] for c in api_bob_admin.get("/contacts").json()}
    assert api_bob_admin.get(f"/contacts/{charlie.pk}").status_code == 404
    assert not Organisation.objects.filter(name="Z").exists()


def test_configuration_reads_and_writes(api_admin):
    group = api_admin.post("/groups", {"name": "Integrations", "level": "L2"})
    assert group.status_code == 201
    product = api_admin.post(
        "/products", {"name": "SuperOffice", "default_group": group.json()["id"]}
    )
    assert product.status_code == 201
    assert Product.objects.get(pk=product.json()["id"]).default_group_id == group.json()["id"]
    assert api_admin.post("/products", {"name": "SuperOffice"}).status_code == 409
    category = api_admin.post("/categories", {"name": "Sync", "kind": "incident"})
    assert category.status_code == 201
    assert api_admin.post("/categories", {"name": "X", "kind": "nonsense"}).status_code == 422
    policies = api_admin.get("/sla-policies").json()
    assert policies and all(p["targets"] for p in policies)
    responses = [t["first_response"] for p in policies for t in p["targets"] if t["first_response"]]
    assert responses and all(r.startswith("PT") and r.endswith("S") for r in responses)
    calendars = api_admin.get("/calendars").json()
    assert calendars and calendars[0]["opening_hours"]
    assert api_admin.get(f"/calendars/{calendars[0]['id']}").json() == calendars[0]
    assert api_admin.get("/products/999999").status_code == 404
