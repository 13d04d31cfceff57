"""The priority bands: which triage scores make which priority.

There is no service for bands: the pure rule ``triage.validate_bands`` is the one check,
run on the set as it would be after the change.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms import modelformset_factory
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import action
from unfold.widgets import (
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminTextInputWidget,
    UnfoldBooleanSwitchWidget,
)

from servicedesk.tickets import triage
from servicedesk.tickets.models import PriorityBand

BAND_FIELDS = ["key", "label", "min_score", "max_score"]


def _band(values: dict) -> triage.Band:
    return triage.Band(*(values[name] for name in BAND_FIELDS))


def _bands_error(bands: list[triage.Band]) -> str | None:
    try:
        triage.validate_bands(bands)
    except triage.InvalidTriage as error:
        return error.localized()
    return None


class PriorityBandForm(forms.ModelForm):
    """One band, checked with all the others as they are stored: the set must still cover
    every score once, so a change that leaves a gap or an overlap is refused."""

    class Meta:
        model = PriorityBand
        fields = BAND_FIELDS

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        this = _band({"key": self.instance.key, **data})
        others = PriorityBand.objects.exclude(pk=self.instance.pk).values(*BAND_FIELDS)
        problem = _bands_error([*map(_band, others), this])
        if problem:
            raise ValidationError(
                _(
                    "%(problem)s Bands that share scores change together: use “Edit all bands” "
                    "on the list of bands."
                ),
                params={"problem": problem},
            )
        return data


class BandRowForm(forms.ModelForm):
    class Meta:
        model = PriorityBand
        fields = BAND_FIELDS
        widgets = {
            "key": UnfoldAdminTextInputWidget,
            "label": UnfoldAdminTextInputWidget,
            "min_score": UnfoldAdminIntegerFieldWidget,
            "max_score": UnfoldAdminIntegerFieldWidget,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Tickets and SLA targets name a band by its key: it never changes.
            self.fields["key"].disabled = True


class BandSetFormSet(forms.BaseModelFormSet):
    """All the bands at once: the set that results must cover 1–16 once each."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].widget = UnfoldBooleanSwitchWidget()

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kept = [f for f in self.forms if f.cleaned_data and not self._should_delete_form(f)]
        problem = _bands_error([_band(form.cleaned_data) for form in kept])
        if problem:
            raise ValidationError(problem)


BandSet = modelformset_factory(
    PriorityBand, form=BandRowForm, formset=BandSetFormSet, extra=1, can_delete=True,
    can_delete_extra=False,
)  # fmt: skip


@admin.register(PriorityBand)
class PriorityBandAdmin(ModelAdmin):
    """Bands map triage scores to priorities. One band's label can be changed on its own
    page; scores, new bands and removed bands change together on “Edit all bands”, where the
    whole set is checked at once. Tickets keep the priority key they were given."""

    form = PriorityBandForm
    list_display = ["label", "key", "min_score", "max_score"]
    ordering = ["min_score"]
    actions_list = ["edit_all_bands"]

    def get_readonly_fields(self, request, obj=None):
        return ["key"] if obj else []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # removing one band always leaves a gap: remove it on "Edit all bands"

    @action(description=_("Edit all bands"), url_path="edit-all", permissions=["change"])
    def edit_all_bands(self, request):
        queryset = PriorityBand.objects.order_by("min_score")
        if request.method == "POST":
            with transaction.atomic():
                list(PriorityBand.objects.select_for_update())  # one editor of the set at a time
                formset = BandSet(request.POST, queryset=queryset)
                if formset.is_valid():
                    # Deletions are logged first: a deleted band has no id afterwards.
                    self._log(request, [form.instance for form in formset.deleted_forms], DELETION)
                    formset.save()
                    self._log(request, formset.new_objects, ADDITION)
                    self._log(request, [band for band, _f in formset.changed_objects], CHANGE)
                    self.message_user(
                        request, _("The priority bands were saved."), messages.SUCCESS
                    )
                    return HttpResponseRedirect(reverse("admin:tickets_priorityband_changelist"))
        else:
            formset = BandSet(queryset=queryset)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Edit all priority bands"),
            "opts": self.opts,
            "formset": formset,
        }
        return TemplateResponse(request, "admin/tickets/priorityband/edit_all.html", context)

    def _log(self, request, bands: list[PriorityBand], flag: int) -> None:
        if bands:
            LogEntry.objects.log_actions(
                user_id=request.user.pk,
                queryset=bands,
                action_flag=flag,
                change_message=str(_("Edited with the other bands.")),
            )
