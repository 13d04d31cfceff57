"""A change request from end to end (issue 16, "Shown by"): an agent turns a customer's ticket
into a CR on the desk, assesses it (the approval gate refused first, with its reason) and
sends it for approval; a real SMTP server (aiosmtpd) receives the requester's conversion mail
in their language and the administrator's approval request, whose signed Approve link opens in
a browser nobody is signed in to, confirms before anything is decided, decides once and says
"already decided" the second time; the agent schedules, tests, implements, reviews (closing
before the review refused with its reason) and closes. axe-core on every page on the way: the
CR page, the CR queue, board and reports, and the approval confirm page."""

import re
from datetime import timedelta
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import translation
from django.utils.formats import date_format
from playwright.sync_api import expect

from servicedesk.accounts.models import CustomerRole
from servicedesk.changes import services as changes
from servicedesk.changes.links import read_approval_token
from servicedesk.changes.models import ChangeEvent, ChangeEventKind, ChangeRequest
from servicedesk.changes.workflow import Stage
from servicedesk.core import clock
from servicedesk.ops import relay
from servicedesk.tickets.models import Event, EventKind, Ticket
from servicedesk.tickets.workflow import Status
from tests.browser.conftest import DATABASE_TURN
from tests.factories import CustomerFactory, make_ticket
from tests.mail.conftest import smtp  # noqa: F401  (a real SMTP server: aiosmtpd)

pytestmark = pytest.mark.django_db(transaction=True)

SERIOUS = {"serious", "critical"}
AXE = Axe()
APPROVAL_GATE = (
    "A change request goes for approval only with an effort estimate and the chargeable decision."
)
REVIEW_GATE = "A change request closes only after its post-implementation review."


@pytest.fixture
def requester(org_a):
    """The customer who asked for the change; reads French in Paris."""
    with DATABASE_TURN:
        return CustomerFactory(
            email="camille@alpha.example",
            full_name="Camille Client",
            organisation=org_a,
            language="fr",
            timezone="Europe/Paris",
        )


@pytest.fixture
def administrator(org_a):
    """Organisation A's customer administrator, who decides its change requests."""
    with DATABASE_TURN:
        return CustomerFactory(
            email="ada@alpha.example",
            full_name="Ada Admin",
            organisation=org_a,
            customer_role=CustomerRole.CUSTOMER_ADMIN,
        )


@pytest.fixture
def ticket(requester):
    with DATABASE_TURN:
        return make_ticket(
            requester=requester, subject="A contract end date on companies", urgency=3, impact=3
        )


# ---- helpers -------------------------------------------------------------------------------


def _relay() -> None:
    with DATABASE_TURN:
        sent = relay.run_once()["mail"]
    assert sent.get("failed", 0) == 0, sent


def _mails_to(smtp, address: str) -> list[EmailMessage]:  # noqa: F811
    return [
        message_from_bytes(m.content, policy=policy.default)
        for m in smtp.received
        if address in m.rcpt_tos
    ]


def _subject(message: EmailMessage) -> str:
    # A subject Django encodes (not ASCII) is folded right after "Subject:"; the parser
    # keeps the fold's space in front.
    return message["Subject"].strip()


def _text(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _reread(change: ChangeRequest) -> ChangeRequest:
    with DATABASE_TURN:
        return ChangeRequest.objects.select_related("decided_by").get(pk=change.pk)


def _axe(person, findings: dict[str, list[str]]) -> None:
    """axe-core on what ``person`` sees now; serious or critical violations kept by page."""
    found = AXE.run(person.page).response["violations"]
    if problems := [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
        for v in found
        if v["impact"] in SERIOUS
    ]:
        findings[person.page.url] = problems


def _open_details(page) -> None:
    """Every disclosure open, so that axe sees what is inside too."""
    page.locator("details").evaluate_all("all => all.forEach(d => { d.open = true; })")


def _console_errors(person) -> list[str]:
    return [e for e in person.console.errors if "favicon.ico" not in e]  # no icon yet


def _move(page, stage: str, reference: str) -> None:
    """Press the CR page's "Move to <stage>" and land back on it, moved."""
    page.locator("#stage").get_by_role("button", name=f"Move to {stage}", exact=True).click()
    expect(page.locator("#messages")).to_contain_text(f"{reference} moved to {stage}.")
    expect(page.locator(".meta .status")).to_have_text(stage)


def _refused_move(page, number: int, to: str, held: str, reason: str) -> None:
    """A move the page does not offer: held back with ``reason`` beside the stage, no button
    for it; posted anyway (the page's own session and CSRF token), refused with that reason."""
    stage = page.locator("#stage")
    expect(stage.locator(".held")).to_contain_text(f"{held}: not yet. {reason}")
    expect(stage.get_by_role("button", name=f"Move to {held}", exact=True)).to_have_count(0)
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    forced = page.request.post(
        f"/desk/changes/{number}/stage/",
        form={"csrfmiddlewaretoken": token, "to": to, "reason": ""},
        headers={"Referer": page.url},
    )
    assert forced.status == 409, forced.status
    assert reason in forced.text()


def _edit(page, section: str, heading: str):
    """Open the edit form of one section of the CR page; return the section."""
    part = page.locator(f"#{section}")
    part.get_by_text(f"Edit: {heading}", exact=True).click()
    return part


# ---- the test ------------------------------------------------------------------------------


def test_a_ticket_becomes_a_cr_approved_from_the_email_and_closed_after_its_review(
    browser_for,
    desk_url,
    settings,
    alice,
    requester,
    administrator,
    ticket,
    smtp,  # noqa: F811
):
    settings.SERVICEDESK_BASE_URL = desk_url  # the mailed links open on the live server
    smtp.start()
    findings: dict[str, list[str]] = {}
    agent = browser_for(alice)
    page = agent.page

    # 1. The ticket turned into a change request from its page.
    agent.go(f"/desk/tickets/{ticket.number}/")
    page.wait_for_selector("html[data-desk-ready]")
    convert = page.locator("#change-request")
    convert.locator("summary", has_text="Turn into a change request").click()  # disclosure
    convert.get_by_label("Scope").select_option(label="Customisation")
    convert.get_by_label("Note (optional, added to the description)").fill("Agreed by phone.")
    convert.get_by_role("button", name="Turn into a change request").click()

    expect(page).to_have_url(re.compile(re.escape(desk_url) + r"/desk/changes/\d+/$"))
    with DATABASE_TURN:
        change = ChangeRequest.objects.get(ticket=ticket)
        closed = Ticket.objects.get(pk=ticket.pk)
        converted = Event.objects.get(ticket=ticket, kind=EventKind.CONVERTED)
        closing = Event.objects.filter(ticket=ticket, kind=EventKind.STATUS).latest("pk")
    reference = change.reference
    expect(page).to_have_url(f"{desk_url}/desk/changes/{change.number}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"{reference} A contract end date on companies"
    )
    expect(page.locator("#messages")).to_contain_text(
        f"{ticket.reference} is now change request {reference}; the ticket is closed."
    )
    expect(page.locator(".meta .status")).to_have_text("Requested")
    expect(page.locator(".meta")).to_contain_text(f"from ticket {ticket.reference}")
    assert closed.status == Status.CLOSED
    assert closing.reason == f"Converted to change request {reference}"
    assert converted.new["reference"] == reference

    _relay()
    (told,) = [m for m in _mails_to(smtp, requester.email) if reference in _subject(m)]
    assert _subject(told).startswith(f"{ticket.subject_token} ")  # in the ticket's thread
    with DATABASE_TURN:
        month = changes.report_month(clock.now(), change.organisation.timezone)
    next_report = (month + timedelta(days=32)).replace(day=1)
    with translation.override("fr"):
        in_french = date_format(next_report, "DATE_FORMAT")  # e.g. "1 janvier 2027"
    assert _text(told).startswith("Bonjour Camille Client,")
    assert in_french in _text(told), _text(told)  # the next report's day, in French
    assert _mails_to(smtp, administrator.email) == []  # nobody is asked anything yet

    # 2. Assessed, the approval gate shown first, then sent for approval.
    _move(page, "Assessment", reference)
    _refused_move(page, change.number, Stage.AWAITING_APPROVAL, "Awaiting approval", APPROVAL_GATE)
    assert _reread(change).stage == Stage.ASSESSMENT

    assessment = _edit(page, "assessment", "Assessment")
    assessment.get_by_label("Chargeable").select_option(label="Chargeable")
    assessment.get_by_label("Effort estimate (hours)").fill("12.5")
    assessment.get_by_label("Feasibility").fill("A custom field and a column in the export.")
    assessment.get_by_role("button", name="Save").click()
    expect(page.locator("#messages")).to_contain_text("Assessment saved.")
    expect(page.locator("#stage .held")).to_have_count(0)
    _move(page, "Awaiting approval", reference)
    expect(page.locator("#approval")).to_contain_text("Awaiting the administrator's decision.")
    expect(page.locator("#approval")).to_contain_text(f"Ada Admin <{administrator.email}>")
    _axe(agent, findings)  # the CR page, awaiting approval

    # 3. The administrator's email; its Approve link opened with nobody signed in.
    _relay()
    (asked,) = _mails_to(smtp, administrator.email)
    assert _subject(asked) == f"[{reference}] Your approval is requested: {change.title}"
    body = _text(asked)
    assert "Chargeable: Yes" in body and "Effort estimate: 12.5 h" in body
    (approve_link,) = re.findall(r"^Approve: (\S+)", body, flags=re.MULTILINE)
    assert approve_link.startswith(f"{desk_url}/portal/changes/decide/")
    with DATABASE_TURN:
        link = read_approval_token(approve_link.rstrip("/").rsplit("/", 1)[1])
        assert (link.change.pk, link.administrator.pk, link.approved) == (
            change.pk,
            administrator.pk,
            True,
        )

    visitor = browser_for(None)
    confirm = visitor.page
    response = visitor.go(approve_link)
    assert response is not None and response.status == 200
    expect(
        confirm.get_by_role("heading", level=2, name=f"You are about to approve {reference}")
    ).to_be_visible()
    expect(confirm.get_by_role("heading", level=1)).to_contain_text(reference)
    assert _reread(change).stage == Stage.AWAITING_APPROVAL  # the page decided nothing
    _axe(visitor, findings)  # the approval confirm page
    confirm.get_by_label("Comment (optional)").fill("Go ahead, before the audit.")
    confirm.get_by_role("button", name="Confirm: approve").click()
    expect(confirm.locator("article p[role=status]")).to_have_text(
        f"You approved {reference}. Thank you: we schedule it and will tell the requester."
    )
    approved = _reread(change)
    assert (approved.stage, approved.decision) == (Stage.APPROVED, "approved")
    assert approved.decided_by == administrator
    assert approved.decision_comment == "Go ahead, before the audit."

    again = visitor.go(approve_link)  # the same link, once more
    assert again is not None and again.status == 410
    expect(confirm.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    expect(confirm.locator("main")).to_contain_text(
        f"{reference} was already approved, by Ada Admin on"
    )
    expect(confirm.locator("main")).to_contain_text("Nothing was changed.")
    expect(confirm.get_by_role("button", name="Confirm: approve")).to_have_count(0)
    unchanged = _reread(change)
    assert (unchanged.stage, unchanged.decided_at) == (Stage.APPROVED, approved.decided_at)
    with DATABASE_TURN:
        decided = ChangeEvent.objects.filter(change=change, kind=ChangeEventKind.DECIDED)
        assert decided.count() == 1
    _relay()  # the requester is told of the decision, once
    (told_decision,) = [
        m for m in _mails_to(smtp, requester.email) if _subject(m).startswith(f"[{reference}]")
    ]
    assert _text(told_decision).startswith("Bonjour Camille Client,")
    assert "Ada Admin" in _text(told_decision)

    # The desk's CR queue, board and reports with the approved CR in them.
    for path, shows in (
        ("/desk/changes/", reference),
        ("/desk/changes/board/", reference),
        ("/desk/changes/reports/", "1 change request requested in the period"),
    ):
        shown = agent.go(path)
        assert shown is not None and shown.ok, path
        expect(page.locator("main")).to_contain_text(shows)
        _open_details(page)
        _axe(agent, findings)
    decisions = page.locator(".figures dt", has_text="Decisions").locator("+ dd")
    expect(decisions).to_have_text("1")  # in the approval lead time

    # 4. Scheduled, tested, implemented, reviewed, closed.
    agent.go(f"/desk/changes/{change.number}/")
    expect(page.locator(".meta .status")).to_have_text("Approved (scheduled)")
    decided_by = page.locator("#approval dt", has_text="Decided by").locator("+ dd")
    expect(decided_by).to_have_text("Ada Admin")
    on = clock.now().date() + timedelta(days=14)
    schedule = _edit(page, "schedule", "Schedule")
    schedule.get_by_label("Scheduled for").fill(on.isoformat())
    schedule.get_by_role("button", name="Save").click()
    expect(page.locator("#messages")).to_contain_text("Schedule saved.")
    expect(page.locator(f'#schedule time[datetime="{on.isoformat()}"]')).to_be_visible()

    _move(page, "Testing (UAT)", reference)
    uat = _edit(page, "test", "Test / UAT")
    uat.get_by_label("Test / UAT outcome").fill("Accepted by Camille on the test system.")
    uat.get_by_role("button", name="Save").click()
    expect(page.locator("#messages")).to_contain_text("Test / UAT saved.")
    _move(page, "Implementation", reference)
    _move(page, "Review", reference)

    _refused_move(page, change.number, Stage.CLOSED, "Closed", REVIEW_GATE)
    assert _reread(change).stage == Stage.REVIEW

    review = _edit(page, "review", "Post-implementation review")
    review.get_by_label("KPIs met").select_option(label="KPIs met")
    review.get_by_label("Lessons learned").fill("Ask for the export's format up front.")
    review.get_by_role("button", name="Save").click()
    expect(page.locator("#messages")).to_contain_text("Post-implementation review saved.")
    _move(page, "Closed", reference)
    expect(page.locator("#stage")).to_contain_text("No move is open from this stage.")

    history = page.locator("#history")
    for line in (
        f"Opened from ticket {ticket.reference}",
        "Stage: Requested → Assessment",
        "Effort estimate: — → 12.5 h",
        "Chargeable: not decided → yes",
        "Stage: Assessment → Awaiting approval",
        "Approval requested from the organisation's administrator (round 1)",
        "Decision: Approved",
        "Stage: Approved (scheduled) → Testing (UAT)",
        "Stage: Testing (UAT) → Implementation",
        "Stage: Implementation → Review",
        "KPIs met: no review yet → met",
        "Stage: Review → Closed",
    ):
        expect(history).to_contain_text(line)
    expect(history).not_to_contain_text("awaiting_approval")  # words, not raw values
    _open_details(page)
    _axe(agent, findings)  # the CR page, closed, its edit forms open

    closed_change = _reread(change)
    assert closed_change.stage == Stage.CLOSED
    assert closed_change.closed_at is not None
    assert closed_change.scheduled_for == on
    assert closed_change.effort_hours == Decimal("12.5")
    assert closed_change.kpis_met is True

    # 5. No serious accessibility violation, no console error anywhere.
    assert findings == {}, findings
    gone = f"{approve_link}: Failed to load resource: the server responded with a status of 410"
    errors = _console_errors(agent) + [
        e
        for e in _console_errors(visitor)
        if not e.startswith(gone)  # the second use, meant
    ]
    assert errors == [], "\n".join(errors)
