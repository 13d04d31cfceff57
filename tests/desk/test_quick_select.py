"""The desk's QuickSelect writes exactly the HTML of Django's Select (it only skips the
templates), for single and multiple choice, empty, lazy and unsafe labels."""

import pytest
from django import forms
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from servicedesk.desk.forms import QuickSelect, QuickSelectMultiple

CHOICES = [
    ("", "—"),
    (1, "One & <two>"),
    ('a"b', gettext_lazy("Open")),
    (3, mark_safe("<b>safe</b>")),
    (None, "none"),
    (1, "One again"),
]


@pytest.mark.parametrize("value", [None, "", 1, "1", 'a"b', [1, 3], ["3"], []])
@pytest.mark.parametrize(
    "attrs", [None, {"id": "id_x"}, {"id": "x", "required": True, "disabled": False}]
)
def test_single_choice_is_djangos_html(value, attrs):
    ours = QuickSelect(choices=CHOICES).render("x&y", value, attrs)
    django = forms.Select(choices=CHOICES).render("x&y", value, attrs)
    assert ours == django


@pytest.mark.parametrize("value", [None, [], [1], ["1", 3], ["", 'a"b']])
def test_multiple_choice_is_djangos_html(value):
    ours = QuickSelectMultiple(choices=CHOICES).render("s", value, {"id": "id_s"})
    django = forms.SelectMultiple(choices=CHOICES).render("s", value, {"id": "id_s"})
    assert ours == django


def test_grouped_choices_fall_back_to_djangos_templates():
    grouped = [("", "—"), ("Group", [(1, "One"), (2, "Two")])]
    assert QuickSelect(choices=grouped).render("g", 2) == forms.Select(choices=grouped).render(
        "g", 2
    )


def test_multiple_reads_every_value_of_the_query():
    from django.http import QueryDict

    data = QueryDict("s=1&s=3")
    assert QuickSelectMultiple().value_from_datadict(data, {}, "s") == ["1", "3"]
