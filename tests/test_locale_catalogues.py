"""Every string the project adds is translated to French and Norwegian Bokmål, and the
compiled catalogues (committed: a fresh machine has no gettext) match the sources."""

import re
from pathlib import Path

import polib
import pytest
from django.utils import translation

from servicedesk.tickets.models import StatusChoices

LOCALE = Path(__file__).resolve().parent.parent / "src" / "servicedesk" / "locale"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")


@pytest.mark.parametrize("language", ["fr", "nb"])
def test_every_entry_is_translated_with_its_placeholders(language):
    catalogue = polib.pofile(LOCALE / language / "LC_MESSAGES" / "django.po")

    assert len(catalogue) > 200
    assert catalogue.untranslated_entries() == []
    assert catalogue.fuzzy_entries() == []
    for entry in catalogue:
        assert sorted(PLACEHOLDER.findall(entry.msgstr)) == sorted(
            PLACEHOLDER.findall(entry.msgid)
        ), entry.msgid


@pytest.mark.parametrize("language", ["fr", "nb"])
def test_the_compiled_catalogue_matches_the_source(language):
    source = polib.pofile(LOCALE / language / "LC_MESSAGES" / "django.po")
    compiled = polib.mofile(LOCALE / language / "LC_MESSAGES" / "django.mo")

    assert {e.msgid: e.msgstr for e in compiled if e.msgid} == {
        e.msgid: e.msgstr for e in source.translated_entries()
    }


@pytest.mark.parametrize(
    ("language", "expected"), [("fr", "En attente du client"), ("nb", "Venter på kunde")]
)
def test_the_interface_speaks_the_users_language(language, expected):
    with translation.override(language):
        assert str(StatusChoices.WAITING_ON_CUSTOMER.label) == expected


def test_the_admin_answers_in_the_users_language(client, alice):
    alice.language = "nb"
    alice.is_superuser = True
    alice.save()
    client.force_login(alice)

    page = client.get("/admin/").content.decode()

    assert "Saker" in page  # the Tickets app, in Norwegian
