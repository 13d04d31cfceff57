"""The portal's forms: each parses what a customer sent, then the view calls one service."""

from django import forms
from django.utils.translation import gettext_lazy as _

from servicedesk.accounts.models import User
from servicedesk.tickets.models import Category, Product, StatusChoices

# Seed 004's triage tables, as a customer reads them: the level, its name, and what it means.
URGENCY = [
    (1, _("1 — Low"), _("No immediate impact.")),
    (2, _("2 — Medium"), _("Immediate impact, but there is a workaround.")),
    (3, _("3 — High"), _("Immediate impact, and no workaround.")),
    (4, _("4 — Imperative"), _("Business critical.")),
]
IMPACT = [
    (1, _("1 — Individual"), _("One person is affected.")),
    (2, _("2 — Minor"), _("A team or a department is affected.")),
    (3, _("3 — Significant"), _("A business area is affected.")),
    (4, _("4 — Major"), _("The whole group is affected.")),
]
MAX_FILES = 10


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files (screenshots), each checked as Django's FileField checks one."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if len(files) > MAX_FILES:
            raise forms.ValidationError(_("Attach %(count)s files at most.") % {"count": MAX_FILES})
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class TriageFields(forms.Form):
    urgency = forms.TypedChoiceField(
        label=_("Urgency"),
        choices=[(n, label) for n, label, _help in URGENCY],
        coerce=int,
        widget=forms.RadioSelect,
    )
    impact = forms.TypedChoiceField(
        label=_("Impact"),
        choices=[(n, label) for n, label, _help in IMPACT],
        coerce=int,
        widget=forms.RadioSelect,
    )


class RequesterChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.display_name


class TicketForm(TriageFields):
    """A new ticket: subject, description, urgency and impact required; the rest helps."""

    requester = RequesterChoiceField(
        label=_("On behalf of"), queryset=User.objects.none(), required=False, empty_label=None
    )
    subject = forms.CharField(label=_("Subject"), max_length=250)
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What happens, and what you expected to happen."),
    )
    product = forms.ModelChoiceField(
        label=_("Product"),
        required=False,
        queryset=Product.objects.filter(is_active=True),
        empty_label=_("(not sure)"),
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        required=False,
        queryset=Category.objects.all(),
        empty_label=_("(not sure)"),
    )
    steps_to_reproduce = forms.CharField(
        label=_("Steps to reproduce"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    users_affected = forms.IntegerField(
        label=_("Number of users affected"), required=False, min_value=0, max_value=1_000_000
    )
    present_since = forms.DateField(
        label=_("Since when"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The day you first noticed it."),
    )
    investigations_done = forms.CharField(
        label=_("Investigations already done"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    attachments = MultipleFileField(label=_("Attachments (screenshots)"), required=False)
    follows = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        contacts = User.objects.visible_to(user).filter(is_active=True, is_staff=False)
        if user.sees_whole_organisation and contacts.exclude(pk=user.pk).exists():
            self.fields["requester"].queryset = contacts.order_by("full_name", "email")
            self.fields["requester"].initial = user.pk
        else:
            del self.fields["requester"]  # an end user files for themselves only


class FilterForm(forms.Form):
    """The list's filters, from the query string; every field optional."""

    requester = RequesterChoiceField(
        label=_("Requester"), required=False, queryset=User.objects.none(), empty_label=_("Anyone")
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any")), ("active", _("Still open")), *StatusChoices.choices],
    )
    product = forms.ModelChoiceField(
        label=_("Product"), required=False, queryset=Product.objects.all(), empty_label=_("Any")
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        if user.sees_whole_organisation:
            self.fields["requester"].queryset = User.objects.visible_to(user).order_by(
                "full_name", "email"
            )
        else:
            del self.fields["requester"]


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your reply"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    attachments = MultipleFileField(label=_("Attachments"), required=False)


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you re-open it?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
