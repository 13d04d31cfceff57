"""Domain errors reach people in their own language: the API's JSON message, the admin's
form errors and messages, the command line; their code and English text stay as they are.
Every template a domain error is raised with is marked for the catalogue and translated."""

import ast
from pathlib import Path

import polib
import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from servicedesk.core.errors import DomainError, Term, gettext_noop
from servicedesk.tickets import services, workflow
from servicedesk.tickets.models import Ticket
from tests.api.conftest import ApiClient
from tests.factories import make_ticket
from tests.tickets.test_admin import _act, _change

SOURCE = Path(__file__).resolve().parent.parent / "src" / "servicedesk"
LOCALE = SOURCE / "locale"

CLOSED_TO_IN_PROGRESS = {
    "en": "A ticket cannot move from Closed to In progress. Re-open it first.",
    "fr": "Un ticket ne peut pas passer de « Fermé » à « En cours ». Rouvrez-le d’abord.",
    "nb": "En sak kan ikke gå fra «Lukket» til «Under arbeid». Gjenåpne den først.",
}
NEEDS_A_REASON = {
    "fr": "Faire passer un ticket de « Nouveau » à « Fermé » demande un motif.",
    "nb": "Å flytte en sak fra «Ny» til «Lukket» krever en begrunnelse.",
}
ONLY_ACTIVE_STAFF = {
    "fr": "Les tickets ne peuvent être attribués qu’à du personnel actif.",
    "nb": "Saker kan bare tildeles aktive ansatte.",
}


# -- the error itself ----------------------------------------------------------------------


def test_an_error_keeps_its_english_text_and_code_and_is_shown_in_the_active_language():
    with pytest.raises(workflow.TransitionNotAllowed) as caught:
        workflow.check_transition("closed", "in_progress", actor=workflow.Actor.STAFF)
    error = caught.value

    assert (str(error), error.code) == (CLOSED_TO_IN_PROGRESS["en"], "transition_not_allowed")
    for language in ("fr", "nb"):
        with translation.override(language):
            assert error.localized() == CLOSED_TO_IN_PROGRESS[language]
            assert str(error) == CLOSED_TO_IN_PROGRESS["en"]  # logs read English
    assert error.localized() == CLOSED_TO_IN_PROGRESS["en"]


def test_an_error_within_an_error_and_plain_values_are_shown_as_they_should_be():
    inner = DomainError(gettext_noop("Unknown channel %(channel)r."), channel="fax")
    outer = DomainError(gettext_noop("ticket %(ticket)s: %(error)s"), ticket="A-1", error=inner)

    assert str(outer) == "ticket A-1: Unknown channel 'fax'."
    with translation.override("nb"):
        assert outer.localized() == "sak A-1: Ukjent kanal: 'fax'."


def test_a_message_without_a_catalogue_entry_is_shown_as_it_is():
    error = DomainError(gettext_noop("Nothing like this is in the catalogue: %(n)s%%."), n=5)

    with translation.override("fr"):
        assert error.localized() == str(error) == "Nothing like this is in the catalogue: 5%."
    assert Term("Open") == "Open"


# -- through the API -----------------------------------------------------------------------


@pytest.fixture
def reader(alice):
    """A member of staff whose language the tests choose."""

    def speaking(language: str):
        alice.language = language
        alice.save()
        return ApiClient(alice)

    return speaking


@pytest.mark.parametrize("language", ["fr", "nb"])
def test_a_workflow_refusal_comes_back_in_the_users_language_through_the_api(
    reader, ticket_a, language
):
    api = reader(language)

    response = api.post(f"/tickets/{ticket_a.number}/status", {"status": "closed"})

    assert response.status_code == 409
    assert response.json() == {
        "code": "transition_not_allowed",  # the contract: codes are never translated
        "message": NEEDS_A_REASON[language],
    }
    assert response["Content-Language"] == language


@pytest.mark.parametrize("language", ["fr", "nb"])
def test_a_services_refusal_comes_back_in_the_users_language_through_the_api(
    reader, ticket_a, charlie, language
):
    api = reader(language)

    response = api.post(f"/tickets/{ticket_a.number}/assignment", {"assignee": charlie.pk})

    assert response.status_code == 422
    assert response.json() == {"code": "invalid_ticket", "message": ONLY_ACTIVE_STAFF[language]}


def test_an_api_user_without_a_language_of_their_own_reads_english(reader, ticket_a):
    api = reader("")

    response = api.post(f"/tickets/{ticket_a.number}/status", {"status": "closed"})

    assert response.json()["message"] == "Moving a ticket from New to Closed needs a reason."


def test_the_apis_own_refusals_are_translated_too(reader):
    api = reader("nb")

    assert api.get("/tickets/99999").json() == {
        "code": "not_found",
        "message": "Ingen sak har nummer 99999.",
    }
    # Before any token is read, the request's own language (Accept-Language) is used.
    anonymous = ApiClient(token="sd_nothing").get("/tickets", headers={"Accept-Language": "fr"})
    assert anonymous.json() == {
        "code": "unauthorized",
        "message": "Un jeton valide est requis : Authorization: Bearer <token>.",
    }


# -- through the admin ---------------------------------------------------------------------


@pytest.fixture
def admin_in(client, alice):
    def speaking(language: str):
        alice.language, alice.is_superuser = language, True
        alice.save()
        client.force_login(alice)
        return client

    return speaking


@pytest.mark.parametrize("language", ["fr", "nb"])
def test_a_workflow_refusal_is_a_form_error_in_the_users_language(admin_in, ticket_a, language):
    response = _change(admin_in(language), ticket_a, status="closed")

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["status"] == [NEEDS_A_REASON[language]]
    assert Ticket.objects.get(pk=ticket_a.pk).status == "new"


@pytest.mark.parametrize("language", ["fr", "nb"])
def test_a_services_refusal_is_a_form_error_in_the_users_language(
    admin_in, ticket_a, charlie, language
):
    response = _change(admin_in(language), ticket_a, assignee=str(charlie.pk))

    errors = response.context["adminform"].form.errors
    assert errors["assignee"] == [ONLY_ACTIVE_STAFF[language]]


@pytest.mark.parametrize("language", ["fr", "nb"])
def test_a_bulk_actions_refusals_are_reported_in_the_users_language(admin_in, bob, alice, language):
    closed = make_ticket(requester=bob)
    services.change_status(ticket=closed, to="closed", by=alice, reason="duplicate")

    response = _act(admin_in(language), "mark_in_progress", closed)

    page = response.content.decode()
    assert f"{closed.reference}: {CLOSED_TO_IN_PROGRESS[language]}" in page.replace("&#x27;", "'")


def test_a_band_set_with_a_gap_is_refused_in_the_users_language(admin_in):
    from servicedesk.tickets.models import PriorityBand

    high = PriorityBand.objects.get(key="high")

    response = admin_in("fr").post(
        f"/admin/tickets/priorityband/{high.pk}/change/",
        {"label": "High", "min_score": 9, "max_score": 11},
    )

    assert response.status_code == 200
    page = response.content.decode().replace("&#x27;", "'")
    assert "Les tranches de priorité doivent couvrir chaque score de 1 à 16" in page


# -- on the command line -------------------------------------------------------------------


def test_the_command_line_speaks_the_desks_language(settings, ticket_a, alice):
    settings.LANGUAGE_CODE = "nb"

    with pytest.raises(CommandError) as caught:
        call_command("ticket", "status", str(ticket_a.number), "closed", "--by", alice.email)

    assert str(caught.value) == NEEDS_A_REASON["nb"]


# -- the catalogue holds every template ----------------------------------------------------


def _python_sources():
    return [p for p in SOURCE.rglob("*.py") if "migrations" not in p.parts]


def _domain_error_names(trees) -> set[str]:
    """DomainError and every class that derives from it, by name, across the code base."""
    names, grew = {"DomainError"}, True
    while grew:
        grew = False
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names:
                    bases = {
                        b.id if isinstance(b, ast.Name) else getattr(b, "attr", "")
                        for b in node.bases
                    }
                    if bases & names:
                        names.add(node.name)
                        grew = True
    return names


def _is_marked(node) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "gettext_noop"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def _scan():
    """(every domain error raised without a marked template, every marked template)."""
    trees = {path: ast.parse(path.read_text()) for path in _python_sources()}
    names = _domain_error_names(trees.values())
    unmarked, marked = [], set()
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if _is_marked(node):
                marked.add(node.args[0].value)
            if isinstance(node, ast.Call):
                called = (
                    node.func.id
                    if isinstance(node.func, ast.Name)
                    else getattr(node.func, "attr", "")
                )
                if called in names and not (node.args and _is_marked(node.args[0])):
                    unmarked.append(f"{path.relative_to(SOURCE)}:{node.lineno}")
    return unmarked, marked


def test_every_domain_error_is_raised_with_a_template_marked_for_the_catalogue():
    unmarked, marked = _scan()

    assert unmarked == []
    assert len(marked) > 80  # the scan does see the raise sites


@pytest.mark.parametrize("language", ["fr", "nb"])
def test_every_marked_template_is_translated(language):
    catalogue = polib.pofile(LOCALE / language / "LC_MESSAGES" / "django.po")
    translated = {e.msgid for e in catalogue.translated_entries() if not e.msgctxt}

    _, marked = _scan()

    assert sorted(marked - translated) == []


def test_the_names_the_api_puts_in_its_messages_are_translated():
    """``No %(what)s with id %(id)s.``: the API names a model by its English verbose name."""
    from servicedesk.accounts.models import Group, Organisation, User, Vendor
    from servicedesk.sla.models import Calendar, Policy
    from servicedesk.tickets.models import Category, Product

    models = [Group, Organisation, User, Vendor, Calendar, Policy, Category, Product]
    with translation.override("nb"):
        untranslated = [
            m._meta.verbose_name_raw
            for m in models
            if translation.gettext(m._meta.verbose_name_raw) == m._meta.verbose_name_raw
        ]
    assert untranslated == []
