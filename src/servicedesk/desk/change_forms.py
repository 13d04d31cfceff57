"""The desk's change request forms: each parses what an agent sent; the view then calls one
service of ``changes.services``, whose refusals are shown as they are."""

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from servicedesk.accounts.models import Organisation, User, Vendor
from servicedesk.changes import workflow
from servicedesk.changes.models import Scope
from servicedesk.desk.forms import staff_choices
from servicedesk.tickets.models import Product

STAGE_LABELS = {stage.value: _(label) for stage, label in workflow.LABELS.items()}
OPEN_STAGES = "open"  # the queue's default: every stage but closed and unapproved
ALL_STAGES = "all"


class DeskForm(forms.Form):
    """Labels as the rest of the desk writes them (no colon)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


ISO_DATE = "%Y-%m-%d"  # what <input type="date"> shows and sends, whatever the language


def iso_date(label) -> forms.DateField:
    """An optional date picked in the browser's date field (never the localised format,
    which the field would not show: a French agent's dates would look empty)."""
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format=ISO_DATE),
        input_formats=[ISO_DATE],
    )


def organisation_choices():
    return Organisation.objects.order_by("name")


def _yes_no(label, undecided, yes, no) -> forms.TypedChoiceField:
    """A tri-state answer (None: not decided yet) as a select, never a colour."""
    return forms.TypedChoiceField(
        label=label,
        choices=[("", undecided), ("yes", yes), ("no", no)],
        coerce=lambda value: {"yes": True, "no": False}.get(value),
        empty_value=None,
        required=False,
    )


def yes_no_initial(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


class ConvertForm(DeskForm):
    scope = forms.ChoiceField(label=_("Scope"), choices=Scope.choices, initial=Scope.CUSTOMISATION)
    note = forms.CharField(
        label=_("Note (optional, added to the description)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ChangeFilterForm(DeskForm):
    """The CR queue's filters, from the query string; every field optional."""

    stage = forms.ChoiceField(label=_("Stage"), required=False)
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        required=False,
        queryset=Organisation.objects.none(),
        empty_label=_("Any"),
    )
    # An agent ("a12") or a vendor ("v3"): a CR on standard software is the vendor's.
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    urgent = forms.BooleanField(label=_("Urgent only"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = [
            (OPEN_STAGES, _("Open (not closed or unapproved)")),
            (ALL_STAGES, _("All stages")),
            *STAGE_LABELS.items(),
        ]
        self.fields["organisation"].queryset = organisation_choices()
        self.fields["owner"].choices = [
            ("", _("Anyone")),
            (_("Agents"), [(f"a{u.pk}", u.display_name) for u in staff_choices()]),
            (_("Vendors"), [(f"v{v.pk}", v.name) for v in Vendor.objects.order_by("name")]),
        ]

    def clean_owner(self) -> dict:
        """The owner as a filter: ``{"assignee_id": 12}`` or ``{"vendor_id": 3}`` (or none)."""
        value = self.cleaned_data["owner"]
        if not value:
            return {}
        return {"assignee_id" if value[0] == "a" else "vendor_id": int(value[1:])}


class RequesterChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.display_name} <{obj.email}>" if obj.full_name else obj.email


class NewChangeForm(DeskForm):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.none()
    )
    requester = RequesterChoiceField(
        label=_("Requested by (a contact of the organisation)"),
        queryset=User.objects.none(),
        error_messages={
            "required": _("Choose who asked for it among the organisation's contacts."),
            "invalid_choice": _("Choose who asked for it among the organisation's contacts."),
        },
    )
    title = forms.CharField(label=_("Title"), max_length=250)
    description = forms.CharField(
        label=_("Description"), max_length=20000, widget=forms.Textarea(attrs={"rows": 6})
    )
    product = forms.ModelChoiceField(
        label=_("Product"), required=False, queryset=Product.objects.all()
    )
    scope = forms.ChoiceField(label=_("Scope"), choices=Scope.choices, initial=Scope.CUSTOMISATION)
    urgent = forms.BooleanField(label=_("Urgent"), required=False)

    def __init__(self, *args, organisation: Organisation | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation_chosen = organisation is not None
        self.fields["organisation"].queryset = organisation_choices()
        # With script, choosing the organisation lists its contacts at once (htmx); without,
        # the form comes back with them, asking for the requester.
        self.fields["organisation"].widget.attrs.update(
            {
                "hx-get": reverse("desk:change-requesters"),
                "hx-trigger": "change",
                "hx-target": "#requester-field",
                "hx-swap": "outerHTML",
            }
        )
        self.fields["requester"].queryset = contacts_of(organisation)


def contacts_of(organisation: Organisation | None):
    """The contacts who may request a CR of ``organisation`` (none without one)."""
    if organisation is None:
        return User.objects.none()
    return User.objects.filter(organisation=organisation, is_staff=False, is_active=True).order_by(
        "full_name", "email"
    )


# -- the CR page's sections -----------------------------------------------------------------


class DetailsForm(DeskForm):
    title = forms.CharField(label=_("Title"), max_length=250)
    description = forms.CharField(
        label=_("Description"), max_length=20000, widget=forms.Textarea(attrs={"rows": 5})
    )
    product = forms.ModelChoiceField(
        label=_("Product"), required=False, queryset=Product.objects.all()
    )
    scope = forms.ChoiceField(label=_("Scope"), choices=Scope.choices)


class AssessmentForm(DeskForm):
    chargeable = _yes_no(
        _("Chargeable"), _("Not decided yet"), _("Chargeable"), _("Not chargeable")
    )
    effort_hours = forms.DecimalField(
        label=_("Effort estimate (hours)"),
        required=False,
        min_value=0,
        max_value=999999.9,
        decimal_places=1,
        max_digits=7,
    )
    feasibility = forms.CharField(
        label=_("Feasibility"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    impact = forms.CharField(
        label=_("Impact"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    risk = forms.CharField(
        label=_("Risk"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    resources = forms.CharField(
        label=_("Required resources"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ScheduleForm(DeskForm):
    scheduled_for = iso_date(_("Scheduled for"))


class UatForm(DeskForm):
    test_outcome = forms.CharField(
        label=_("Test / UAT outcome"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReviewForm(DeskForm):
    kpis_met = _yes_no(_("KPIs met"), _("No review yet"), _("KPIs met"), _("KPIs not met"))
    lessons_learned = forms.CharField(
        label=_("Lessons learned"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class OwnerForm(DeskForm):
    assignee = forms.ModelChoiceField(
        label=_("Owner (a desk agent)"),
        required=False,
        queryset=User.objects.none(),
        empty_label=_("Nobody"),
    )
    vendor = forms.ModelChoiceField(
        label=_("Vendor"), required=False, queryset=Vendor.objects.all(), empty_label=_("None")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_choices()


# The CR page's editable sections: name -> (form, heading). Each posts only its own fields.
SECTIONS: dict[str, tuple[type[DeskForm], str]] = {
    "details": (DetailsForm, _("Request")),
    "assessment": (AssessmentForm, _("Assessment")),
    "schedule": (ScheduleForm, _("Schedule")),
    "test": (UatForm, _("Test / UAT")),
    "review": (ReviewForm, _("Post-implementation review")),
    "owner": (OwnerForm, _("Owner")),
}
TRI_STATE = {"chargeable", "kpis_met"}


def section_initial(change, form_class: type[DeskForm]) -> dict:
    initial = {}
    for name in form_class.base_fields:
        value = getattr(change, name)
        if name in TRI_STATE:
            value = yes_no_initial(value)
        elif name in {"product", "assignee", "vendor"}:
            value = getattr(change, f"{name}_id")
        initial[name] = value
    return initial


class PlanStepForm(DeskForm):
    description = forms.CharField(label=_("Step"), required=False, max_length=500)
    due_on = iso_date(_("Date"))
    responsible = forms.CharField(label=_("Responsible"), required=False, max_length=200)
    done = forms.BooleanField(label=_("Done"), required=False)
    remove = forms.BooleanField(label=_("Remove"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("remove"):
            return data
        filled = data.get("due_on") or (data.get("responsible") or "").strip() or data.get("done")
        if filled and not (data.get("description") or "").strip():
            raise forms.ValidationError(_("A step needs a description."))
        return data

    @property
    def kept(self) -> bool:
        """A step the plan keeps: not removed, not a blank row."""
        data = self.cleaned_data
        return not data.get("remove") and bool((data.get("description") or "").strip())


PlanFormSet = forms.formset_factory(PlanStepForm, extra=2, max_num=100, absolute_max=100)


class StageForm(DeskForm):
    to = forms.ChoiceField(label=_("Stage"), choices=list(STAGE_LABELS.items()))
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=2000)


class ReportFilterForm(DeskForm):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        required=False,
        queryset=Organisation.objects.none(),
        empty_label=_("All organisations"),
    )
    since = iso_date(_("From"))
    until = iso_date(_("To (inclusive)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisation_choices()

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError(_("The period ends before it begins."))
        return data
