"""Every string the project adds is translated to French and Norwegian Bokmål, and the
compiled catalogues (committed: a fresh machine has no gettext) match the sources."""

import re
from pathlib import Path

import polib
import pytest
from django.utils import translation

from servicedesk.tickets.models import StatusChoices

LOCALE = Path(__file__).resolve().parent.parent / "src" / "servicedesk" / "locale"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|%[sd]|\{\w*\}")


@pytest.mark.parametrize("language", ["fr", "nb"])
def test_every_entry_is_translated_with_its_placeholders(language):
    catalogue = polib.pofile(LOCALE / language / "LC_MESSAGES" / "django.po")

    assert len(catalogue) > 200
    assert catalogue.untranslated_entries() == []
    assert catalogue.fuzzy_entries() == []
    for entry in catalogue:
        if entry.msgid_plural:  # each plural form carries the plural source's placeholders
            for translated in entry.msgstr_plural.values():
                assert sorted(PLACEHOLDER.findall(translated)) == sorted(
                    PLACEHOLDER.findall(entry.msgid_plural)
                ), entry.msgid_plural
        else:
            assert sorted(PLACEHOLDER.findall(entry.msgstr)) == sorted(
                PLACEHOLDER.findall(entry.msgid)
            ), entry.msgid


@pytest.mark.parametrize("language", ["fr", "nb"])
def test_the_compiled_catalogue_matches_the_source(language):
    source = polib.pofile(LOCALE / language / "LC_MESSAGES" / "django.po")
    compiled = polib.mofile(LOCALE / language / "LC_MESSAGES" / "django.mo")

    def forms(entry):
        return entry.msgstr_plural if entry.msgid_plural else entry.msgstr

    # Keyed with the context too: "Requested" (a stage) and "when"|"Requested" (a date) differ.
    assert {(e.msgctxt, e.msgid): forms(e) for e in compiled if e.msgid} == {
        (e.msgctxt, e.msgid): forms(e) for e in source.translated_entries()
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
