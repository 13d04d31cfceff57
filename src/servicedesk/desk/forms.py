"""The desk's forms: each parses what an agent sent, then the view calls one service."""

from collections.abc import Callable, Sequence

from django import forms
from django.utils import translation
from django.utils.html import conditional_escape, escape, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from servicedesk.accounts.models import Group, User
from servicedesk.core import config_cache, labels
from servicedesk.tickets.models import Category, Channel, LinkKind, Product, StatusChoices
from servicedesk.tickets.selectors import triage_bands

LEVELS = [(n, str(n)) for n in (1, 2, 3, 4)]
URGENCY = [
    (1, _("1 — Low: no immediate impact")),
    (2, _("2 — Medium: immediate impact, with a workaround")),
    (3, _("3 — High: immediate impact, no workaround")),
    (4, _("4 — Imperative: business critical")),
]
IMPACT = [
    (1, _("1 — Individual")),
    (2, _("2 — Minor: a team or department")),
    (3, _("3 — Significant: a business area")),
    (4, _("4 — Major: the group")),
]


def _attributes(attrs: dict) -> str:
    return "".join(
        f" {escape(name)}" if value is True else f' {escape(name)}="{escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class QuickSelect(forms.Select):
    """Django's ``Select``, the same HTML written in Python: its templates (one include per
    option) cost about half a millisecond a list, and the desk's pages show a dozen lists."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            attrs["multiple"] = True
        chosen = set(self.format_value(value))
        options, has_selected = [], False
        for option_value, label in self.choices:
            if isinstance(label, (list, tuple)):  # groups: Django's own templates
                return super().render(name, value, attrs, renderer)
            option_value = "" if option_value is None else str(option_value)
            selected = (not has_selected or self.allow_multiple_selected) and (
                option_value in chosen
            )
            has_selected |= selected
            options.append(
                f'\n  <option value="{escape(option_value)}"{" selected" if selected else ""}>'
                f"{conditional_escape(label)}</option>\n"  # the option template ends a line
            )
        return mark_safe(
            f'<select name="{escape(name)}"{_attributes(attrs)}>{"".join(options)}\n</select>'
        )


class QuickSelectMultiple(QuickSelect):
    allow_multiple_selected = True

    value_from_datadict = forms.SelectMultiple.value_from_datadict
    value_omitted_from_data = forms.SelectMultiple.value_omitted_from_data


class GroupChoiceField(forms.ModelChoiceField):
    """Groups by name in the reader's language (the shipped ones are translated)."""

    widget = QuickSelect

    def label_from_instance(self, obj) -> str:
        return labels.shown(obj.name)


def labelled_fields(form: forms.Form, names: Sequence[str]) -> SafeString:
    """``<label>`` and widget of each of ``names``."""
    return format_html_join(
        "\n",
        '<label for="{}">{}</label>{}',
        ((form[n].id_for_label, form[n].label, form[n]) for n in names),
    )


def blank_once(key: str, render: Callable[[], object]):
    """What ``render`` makes of empty forms, in the reader's language: the same on every page
    until the configuration changes, so rendered once and memoised with it."""
    return config_cache.memo((key, translation.get_language()), render)


def staff_choices():
    return User.objects.filter(is_staff=True, is_active=True).order_by("full_name", "email")


# The lists the desk's selects offer, read once per ``config_cache.TTL`` (configuration: a
# new agent, group, product or category clears them). Validation still reads the database.
def _staff_options() -> tuple:
    return config_cache.memo("desk-staff", lambda: tuple((u.pk, str(u)) for u in staff_choices()))


def _group_options() -> list:
    names = config_cache.memo("desk-groups", lambda: tuple(Group.objects.values_list("pk", "name")))
    return [(pk, labels.shown(name)) for pk, name in names]


def _named_options(model) -> tuple:
    return config_cache.memo(
        ("desk-options", model.__name__), lambda: tuple((o.pk, str(o)) for o in model.objects.all())
    )


def _offer(field: forms.ModelChoiceField, options) -> None:
    """``field`` offers ``options`` (its empty choice first, as Django's own list has it)."""
    empty = [] if field.empty_label is None else [("", field.empty_label)]
    field.choices = [*empty, *options]


class FilterForm(forms.Form):
    """The queue's filters, from the query string; every field optional."""

    q = forms.CharField(label=_("Text"), required=False, max_length=200)
    status = forms.MultipleChoiceField(
        label=_("Status"),
        required=False,
        choices=StatusChoices.choices,
        widget=QuickSelectMultiple,
    )
    priority = forms.ChoiceField(label=_("Priority"), required=False, widget=QuickSelect)
    group = GroupChoiceField(label=_("Group"), required=False, queryset=Group.objects.all())
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), required=False, queryset=User.objects.none(), widget=QuickSelect
    )
    organisation = forms.IntegerField(
        label=_("Organisation"), required=False, min_value=1, max_value=2**62
    )
    product = forms.ModelChoiceField(
        label=_("Product"), required=False, queryset=Product.objects.all(), widget=QuickSelect
    )
    category = forms.ModelChoiceField(
        label=_("Category"), required=False, queryset=Category.objects.all(), widget=QuickSelect
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=[("", "—"), *Channel.choices],
        widget=QuickSelect,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_choices()
        _offer(self.fields["assignee"], _staff_options())
        _offer(self.fields["group"], _group_options())
        _offer(self.fields["product"], _named_options(Product))
        _offer(self.fields["category"], _named_options(Category))
        self.fields["priority"].choices = [("", "—")] + [
            (b.key, labels.shown(b.label)) for b in triage_bands()
        ]


class ComposerForm(forms.Form):
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 6}))
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[("reply", _("Public reply")), ("note", _("Internal note"))],
        initial="reply",
        widget=forms.RadioSelect,
    )
    then_status = forms.ChoiceField(
        label=_("Then set the status to"), required=False, widget=QuickSelect
    )
    attachments = forms.FileField(label=_("Attachments"), required=False)
    seen = forms.CharField(widget=forms.HiddenInput)  # the ticket's version the agent saw
    send_anyway = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, statuses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["then_status"].choices = [("", _("(unchanged)"))] + [
            (s, StatusChoices(s).label) for s in statuses
        ]


class StatusForm(forms.Form):
    to = forms.ChoiceField(label=_("Status"), choices=StatusChoices.choices)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assignee"),
        required=False,
        queryset=User.objects.none(),
        empty_label=_("Nobody"),
        widget=QuickSelect,
    )
    group = GroupChoiceField(label=_("Group"), required=False, queryset=Group.objects.all())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_choices()
        _offer(self.fields["assignee"], _staff_options())
        _offer(self.fields["group"], _group_options())


class TriageForm(forms.Form):
    urgency = forms.TypedChoiceField(
        label=_("Urgency"), choices=URGENCY, coerce=int, widget=QuickSelect
    )
    impact = forms.TypedChoiceField(
        label=_("Impact"), choices=IMPACT, coerce=int, widget=QuickSelect
    )


class BulkForm(forms.Form):
    tickets = forms.TypedMultipleChoiceField(coerce=int, choices=())  # numbers, set per request
    action = forms.ChoiceField(
        choices=[("assign", _("Assign")), ("status", _("Status")), ("priority", _("Priority"))]
    )
    assignee = forms.ModelChoiceField(
        required=False, queryset=User.objects.none(), widget=QuickSelect
    )
    status = forms.ChoiceField(
        required=False, choices=[("", "—"), *StatusChoices.choices], widget=QuickSelect
    )
    urgency = forms.TypedChoiceField(
        required=False, choices=[("", "—"), *LEVELS], coerce=int, widget=QuickSelect
    )
    impact = forms.TypedChoiceField(
        required=False, choices=[("", "—"), *LEVELS], coerce=int, widget=QuickSelect
    )

    def __init__(self, *args, numbers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tickets"].choices = [(n, n) for n in numbers]
        self.fields["assignee"].queryset = staff_choices()
        _offer(self.fields["assignee"], _staff_options())


class SavedFilterForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    shared = forms.BooleanField(label=_("Share with every agent"), required=False)
    query = forms.CharField(widget=forms.HiddenInput, required=False, max_length=1000)


class CallForm(forms.Form):
    """Log a call: who rang (an existing contact, by email) and the triage questions."""

    requester_email = forms.EmailField(label=_("Caller's email"))
    requester_name = forms.CharField(label=_("Caller's name"), required=False, max_length=200)
    subject = forms.CharField(label=_("Subject"), max_length=250)
    description = forms.CharField(
        label=_("What they said"), widget=forms.Textarea(attrs={"rows": 5})
    )
    urgency = forms.TypedChoiceField(label=_("Urgency"), choices=URGENCY, coerce=int)
    impact = forms.TypedChoiceField(label=_("Impact"), choices=IMPACT, coerce=int)
    product = forms.ModelChoiceField(
        label=_("Product"), required=False, queryset=Product.objects.all()
    )


class LinkForm(forms.Form):
    kind = forms.ChoiceField(label=_("Link"), choices=LinkKind.choices, widget=QuickSelect)
    target = forms.CharField(label=_("Ticket"), max_length=40)
