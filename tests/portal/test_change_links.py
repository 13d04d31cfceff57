"""The one-click Approve / Not approve links of the approval emails (issue 16 item 4):
``/portal/changes/decide/<token>/`` shows the CR and the decision asked and changes nothing on
GET; the POST decides in the administrator's name, with their comment. A tampered, expired,
used or earlier round's link, someone else's, or a former administrator's, is refused with
a page that says so, and nothing changes."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from servicedesk.accounts.models import CustomerRole
from servicedesk.changes import services
from servicedesk.changes.links import approval_token
from servicedesk.changes.models import ChangeEvent, ChangeRequest
from servicedesk.changes.workflow import Stage
from tests.factories import CustomerFactory

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def nora(org_a):
    """org_a's Norwegian administrator, in Oslo."""
    return CustomerFactory(
        email="nora@alpha.example",
        full_name="Nora Admin",
        organisation=org_a,
        customer_role=CustomerRole.CUSTOMER_ADMIN,
        language="nb",
        timezone="Europe/Oslo",
    )


@pytest.fixture
def waiting(alice, bob, bob_admin) -> ChangeRequest:
    """A CR of org_a awaiting its administrators' decision, in its first round."""
    change = services.open_change(
        organisation=bob.organisation,
        requester=bob,
        by=bob,
        title="Contract end date on companies",
        description="Sales want to see <when> each contract ends.",
    )
    change = services.move_stage(change=change, to=Stage.ASSESSMENT, by=alice)
    change = services.update_change(
        change=change, by=alice, effort_hours=Decimal("12.5"), chargeable=True
    )
    return services.move_stage(change=change, to=Stage.AWAITING_APPROVAL, by=alice)


def link(change, administrator, *, approved=True) -> str:
    token = approval_token(change, administrator, approved=approved)
    return reverse("portal:change-decide", args=[token])


def _state(change) -> tuple:
    change = ChangeRequest.objects.get(pk=change.pk)
    events = ChangeEvent.objects.filter(change=change).count()
    return change.stage, change.decision, change.decided_by_id, change.approval_round, events


# ---- The page and the decision ------------------------------------------------------------


def test_the_link_shows_the_change_and_the_decision_asked_and_changes_nothing_on_get(
    client, waiting, bob_admin
):
    before = _state(waiting)

    page = client.get(link(waiting, bob_admin))

    assert page.status_code == 200
    html = page.content.decode()
    assert waiting.reference in html
    assert "Contract end date on companies" in html
    assert "Sales want to see &lt;when&gt; each contract ends." in html  # escaped
    assert "12.5 h" in html
    assert "You are about to approve" in html
    assert 'method="post"' in html and "csrfmiddlewaretoken" in html
    assert '<textarea name="comment"' in html
    assert _state(waiting) == before


def test_posting_the_form_approves_in_the_administrators_name_with_their_comment(
    client, waiting, bob_admin
):
    page = client.post(link(waiting, bob_admin), {"comment": "Go ahead in January."})

    assert page.status_code == 200
    assert "You approved" in page.content.decode()
    change = ChangeRequest.objects.get(pk=waiting.pk)
    assert change.stage == Stage.APPROVED
    assert change.decided_by == bob_admin
    assert change.decided_at == NOW
    assert change.decision_comment == "Go ahead in January."


def test_the_not_approve_link_records_not_approved(client, waiting, bob_admin):
    page = client.post(link(waiting, bob_admin, approved=False), {"comment": ""})

    assert page.status_code == 200
    assert "You did not approve" in page.content.decode()
    assert ChangeRequest.objects.get(pk=waiting.pk).stage == Stage.UNAPPROVED


def test_the_page_is_in_the_administrators_language_and_time_zone(client, waiting, nora):
    page = client.get(link(waiting, nora))

    html = page.content.decode()
    assert '<html lang="nb">' in html
    assert "12,5 h" in html
    assert "3. desember 2026 10:30" in html  # 09:30 UTC, in Oslo


def test_the_page_has_no_inline_script_and_a_content_security_policy(client, waiting, bob_admin):
    page = client.get(link(waiting, bob_admin))

    assert "Content-Security-Policy" in page.headers
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.content.decode())


def test_the_form_is_protected_against_cross_site_posts(waiting, bob_admin):
    before = _state(waiting)

    page = Client(enforce_csrf_checks=True).post(link(waiting, bob_admin), {"comment": ""})

    assert page.status_code == 403
    assert _state(waiting) == before


def test_a_signed_in_administrator_uses_their_own_link(client, waiting, bob_admin):
    client.force_login(bob_admin)

    page = client.post(link(waiting, bob_admin), {"comment": ""})

    assert page.status_code == 200
    assert ChangeRequest.objects.get(pk=waiting.pk).stage == Stage.APPROVED


# ---- Refused, nothing changed -------------------------------------------------------------


def test_a_tampered_link_is_refused_and_changes_nothing(client, waiting, bob_admin):
    token = approval_token(waiting, bob_admin, approved=True)
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    before = _state(waiting)

    for method in (client.get, client.post):
        page = method(reverse("portal:change-decide", args=[tampered]))

        assert page.status_code == 400
        assert "This link no longer works" in page.content.decode()
    assert _state(waiting) == before


def test_an_expired_link_is_refused_and_changes_nothing(client, settings, waiting, bob_admin):
    url = link(waiting, bob_admin)
    before = _state(waiting)

    with time_machine.travel(NOW + timedelta(days=settings.SERVICEDESK_LINK_DAYS, hours=1)):
        page = client.post(url, {"comment": "late"})

    assert page.status_code == 400
    assert "it has expired" in page.content.decode()
    assert _state(waiting) == before


def test_a_used_link_is_refused_the_second_time_and_says_what_was_decided(
    client, waiting, bob_admin
):
    url = link(waiting, bob_admin)
    client.post(url, {"comment": "Yes."})
    after_first = _state(waiting)

    again = client.post(url, {"comment": "Yes again."})
    shown = client.get(url)

    assert again.status_code == shown.status_code == 410
    assert "was already approved" in shown.content.decode()
    assert _state(waiting) == after_first


def test_the_other_link_after_a_decision_changes_nothing(client, waiting, bob_admin, nora):
    client.post(link(waiting, nora), {"comment": ""})
    decided = _state(waiting)

    page = client.post(link(waiting, bob_admin, approved=False), {"comment": "No!"})

    assert page.status_code == 410
    assert _state(waiting) == decided


def test_an_earlier_rounds_link_is_refused_once_the_change_is_resubmitted(
    client, alice, waiting, bob_admin
):
    first_round = link(waiting, bob_admin)
    change = services.decide(change=waiting, approved=False, by=bob_admin)
    services.move_stage(change=change, to=Stage.AWAITING_APPROVAL, by=alice)
    before = _state(waiting)

    page = client.post(first_round, {"comment": ""})

    assert page.status_code == 410
    assert "A newer request for approval" in page.content.decode()
    assert _state(waiting) == before
    assert before[0] == Stage.AWAITING_APPROVAL and before[3] == 2


def test_someone_elses_link_is_a_404_while_signed_in(client, waiting, bob, bob_admin):
    client.force_login(bob)
    before = _state(waiting)

    page = client.post(link(waiting, bob_admin), {"comment": ""})

    assert page.status_code == 404
    assert _state(waiting) == before


def test_a_link_of_someone_no_longer_administrator_is_refused(client, waiting, bob_admin):
    url = link(waiting, bob_admin)
    bob_admin.customer_role = CustomerRole.END_USER
    bob_admin.save()
    before = _state(waiting)

    page = client.post(url, {"comment": ""})

    assert page.status_code == 410
    assert _state(waiting) == before


def test_a_link_taken_back_to_assessment_is_refused(client, alice, waiting, bob_admin):
    url = link(waiting, bob_admin)
    services.move_stage(change=waiting, to=Stage.ASSESSMENT, by=alice)
    before = _state(waiting)

    page = client.get(url)

    assert page.status_code == 410
    assert "is no longer awaiting a decision" in page.content.decode()
    assert _state(waiting) == before
