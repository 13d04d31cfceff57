"""The portal's change requests in a real browser: an administrator finds what awaits their
decision, approves one with a comment from its page and declines another from the report;
every CR page checked with axe-core at a desktop's and a phone's width, without horizontal
scrolling, in English and in French. With SERVICEDESK_SCREENSHOTS naming a directory, the
pages are saved there for a person to look at (not compared)."""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from servicedesk.changes import services
from servicedesk.changes.models import ChangeRequest
from servicedesk.changes.services import Step
from servicedesk.changes.workflow import Stage
from tests.browser.conftest import DATABASE_TURN
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)

SERIOUS = {"serious", "critical"}
AXE = Axe()
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _awaiting(change: ChangeRequest, staff, *, hours: str) -> ChangeRequest:
    change = services.move_stage(change=change, to=Stage.ASSESSMENT, by=staff)
    change = services.update_change(
        change=change,
        by=staff,
        effort_hours=Decimal(hours),
        chargeable=True,
        impact="Invoices to EU companies show the customer's VAT number.",
        risk="Low: a new optional field; existing invoices are unchanged.",
    )
    return services.move_stage(change=change, to=Stage.AWAITING_APPROVAL, by=staff)


@pytest.fixture
def changes(alice, bob):
    """Organisation A's CRs: two awaiting approval (one from a ticket, urgent), one requested."""
    ticket = make_ticket(requester=bob, subject="Add the VAT number to invoices")
    vat = services.convert_ticket(ticket=ticket, by=alice)
    vat = _awaiting(vat, alice, hours="12.5")
    services.set_plan(
        change=vat,
        steps=[Step("Add the field", responsible="Pierre"), Step("Update the invoice layout")],
        by=alice,
    )
    services.mark_urgent(change=vat, by=bob)
    dashboard = services.open_change(
        organisation=bob.organisation,
        requester=bob,
        by=bob,
        title="A sales dashboard per region",
        description="One chart per region, refreshed every night.",
    )
    dashboard = _awaiting(dashboard, alice, hours="40")
    export = services.open_change(
        organisation=bob.organisation,
        requester=bob,
        by=bob,
        title="Export contacts to Excel",
        description="With the company and the owner of each contact.",
    )
    return {"vat": vat, "dashboard": dashboard, "export": export}


def _violations(page) -> list[str]:
    found = AXE.run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
        for v in found
        if v["impact"] in SERIOUS
    ]


def _stage(change: ChangeRequest) -> str:
    with DATABASE_TURN:
        return ChangeRequest.objects.get(pk=change.pk).stage


def test_an_administrator_approves_from_the_page_and_declines_from_the_report(
    browser_for, bob_admin, changes
):
    vat, dashboard = changes["vat"], changes["dashboard"]
    admin = browser_for(bob_admin)
    page = admin.page
    admin.go("/portal/")

    page.get_by_role("link", name="Change requests").click()
    awaiting = page.get_by_role("region", name="Awaiting your decision")
    expect(awaiting.get_by_role("link")).to_have_text([vat.reference, dashboard.reference])
    awaiting.get_by_role("link", name=vat.reference).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Add the VAT number to invoices")
    page.get_by_label("Comment (optional)").fill("Yes, before the January invoices.")
    page.get_by_role("button", name="Approve", exact=True).click()

    expect(page.locator("#messages")).to_contain_text(f"You approved {vat.reference}")
    expect(page.locator(".history")).to_contain_text("Yes, before the January invoices.")
    assert _stage(vat) == Stage.APPROVED

    page.get_by_role("link", name="Change requests").first.click()
    page.get_by_role("link", name="Change Request Update report").click()
    row = page.get_by_role("row").filter(has_text=dashboard.reference)
    row.get_by_role("textbox").fill("Not this year.")
    row.get_by_role("button", name="Do not approve").click()

    expect(page.locator("#messages")).to_contain_text(f"You did not approve {dashboard.reference}")
    expect(page).to_have_url(f"{admin.base}/portal/changes/report/")
    assert _stage(dashboard) == Stage.UNAPPROVED


def test_the_change_request_pages_are_accessible_fit_a_phone_and_speak_french(
    browser_for, bob_admin, changes
):
    shots = os.environ.get("SERVICEDESK_SCREENSHOTS")
    vat = changes["vat"]
    pages = {
        "changes": "/portal/changes/",
        "change": f"/portal/changes/{vat.number}/",
        "change-new": "/portal/changes/new/",
        "change-report": "/portal/changes/report/",
    }
    findings: dict[str, list[str]] = {}
    too_wide: list[str] = []

    for language in ("en", "fr"):
        with DATABASE_TURN:
            bob_admin.language = language
            bob_admin.save(update_fields=["language"])
        admin = browser_for(bob_admin)
        for size in (DESKTOP, PHONE):
            admin.page.set_viewport_size(size)
            for name, path in pages.items():
                response = admin.go(path)
                assert response is not None and response.ok, path
                expect(admin.page.locator("html")).to_have_attribute("lang", language)
                if problems := _violations(admin.page):
                    findings[f"{path} at {size['width']} px in {language}"] = problems
                scroll = (
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                if size == PHONE and admin.page.evaluate(scroll) > 0:
                    too_wide.append(f"{path} in {language}")
                if shots:
                    Path(shots).mkdir(parents=True, exist_ok=True)
                    width = "phone" if size == PHONE else "desktop"
                    file = Path(shots) / f"portal-{name}-{language}-{width}.png"
                    admin.page.screenshot(path=file, full_page=True)
        errors = [e for e in admin.console.errors if "favicon.ico" not in e]
        assert errors == [], errors

    assert findings == {}, findings
    assert too_wide == []


def test_the_decision_buttons_are_reached_by_keyboard(browser_for, bob_admin, changes):
    admin = browser_for(bob_admin)
    admin.go(f"/portal/changes/{changes['dashboard'].number}/")

    admin.page.get_by_label("Comment (optional)").focus()
    admin.page.keyboard.press("Tab")

    expect(admin.page.get_by_role("button", name="Approve", exact=True)).to_be_focused()
    admin.page.keyboard.press("Tab")
    expect(admin.page.get_by_role("button", name="Do not approve")).to_be_focused()
