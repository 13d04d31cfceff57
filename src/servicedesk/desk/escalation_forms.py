"""The desk's escalation forms: each parses what an agent sent; the view then calls one
service of ``escalation.services``, whose refusals are shown as they are."""

from django import forms
from django.utils.translation import gettext_lazy as _

from servicedesk.accounts.models import Group, Vendor
from servicedesk.desk.forms import GroupChoiceField
from servicedesk.escalation.models import Contract, VendorChannel
from servicedesk.tickets.models import Attachment, Comment, StatusChoices, Ticket
from servicedesk.tickets.workflow import Status

LOCAL_MINUTE = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends


class LocalDateTimeInput(forms.DateTimeInput):
    """A date and time in the agent's time zone (the middleware activates it)."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=LOCAL_MINUTE)


def local_datetime(label, **kwargs) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        widget=LocalDateTimeInput(),
        input_formats=[LOCAL_MINUTE, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        **kwargs,
    )


class TellCustomerMixin(forms.Form):
    """The escalation forms' shared part: whether the customer is told (and if not, why)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # labels as the rest of the desk writes them
        super().__init__(*args, **kwargs)

    notify_customer = forms.BooleanField(
        label=_("Tell the customer where the case is"), required=False, initial=True
    )
    no_notice_reason = forms.CharField(
        label=_("If not, why not"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    next_update_by = local_datetime(
        _("The customer hears from us next by (empty: the service level's next update)"),
        required=False,
    )


class InternalEscalationForm(TellCustomerMixin):
    to_level = forms.ChoiceField(
        label=_("Support level"),
        choices=[("L2", _("Level 2 — CRM specialists")), ("L3", _("Level 3 — development"))],
    )
    group = GroupChoiceField(
        label=_("Group (optional: else the level's receiving group)"),
        required=False,
        queryset=Group.objects.exclude(level="L1").order_by("level", "name"),
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    field_order = ["to_level", "group", "reason", "notify_customer", "no_notice_reason"]


class ThreadItemField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj) -> str:
        if isinstance(obj, Attachment):
            return obj.filename
        kind = _("Internal note") if obj.internal else _("Public reply")
        who = obj.author.display_name if obj.author_id else _("the desk (automation)")
        text = " ".join(obj.body.split())
        return f"{kind} · {who}: {text[:120]}{'…' if len(text) > 120 else ''}"


class VendorEscalationForm(TellCustomerMixin):
    vendor = forms.ModelChoiceField(label=_("Vendor"), queryset=Vendor.objects.order_by("name"))
    reference = forms.CharField(label=_("Their reference"), required=False, max_length=100)
    contact = forms.CharField(label=_("Contact"), required=False, max_length=200)
    channel = forms.ChoiceField(
        label=_("Channel"), choices=VendorChannel.choices, initial=VendorChannel.EMAIL
    )
    promised_by = local_datetime(_("Answer promised by"), required=False)
    contract = forms.ChoiceField(
        label=_("Contract"),
        choices=Contract.choices,
        initial=Contract.CONTRACT,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    comments = ThreadItemField(
        label=_("Thread items to send"), required=False, queryset=Comment.objects.none()
    )
    attachments = ThreadItemField(
        label=_("Files to send"), required=False, queryset=Attachment.objects.none()
    )
    has_logs = forms.BooleanField(label=_("Logs"), required=False)
    has_screenshots = forms.BooleanField(label=_("Screenshots"), required=False)
    has_steps = forms.BooleanField(label=_("Steps to reproduce"), required=False)
    missing = forms.CharField(
        label=_("What is missing, and why"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    send_nothing = forms.BooleanField(
        label=_("Send nothing from the thread (I have checked)"), required=False
    )

    def __init__(self, *args, ticket: Ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["comments"].queryset = (
            Comment.objects.filter(ticket=ticket).select_related("author").order_by("created_at")
        )
        self.fields["attachments"].queryset = Attachment.objects.filter(ticket=ticket).order_by(
            "created_at", "pk"
        )

    def clean(self):
        data = super().clean()
        ticked = all(data.get(name) for name in ("has_logs", "has_screenshots", "has_steps"))
        if not ticked and not (data.get("missing") or "").strip():
            self.add_error(
                "missing",
                _("Tick what the vendor gets (logs, screenshots, steps), or say what is missing."),
            )
        chosen = bool(data.get("comments")) or bool(data.get("attachments"))
        if not chosen and not data.get("send_nothing"):
            self.add_error(
                "send_nothing",
                _("Nothing is chosen to send: pick thread items or files, or confirm."),
            )
        return data


class DeEscalateForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=4000)


class ReturnForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=4000)
    to_status = forms.ChoiceField(
        label=_("Then set the status to"),
        choices=[
            (s.value, StatusChoices(s.value).label) for s in (Status.IN_PROGRESS, Status.OPEN)
        ],
        initial=Status.IN_PROGRESS,
    )


class AnswerForm(forms.Form):
    at = local_datetime(_("Answered at (empty: now)"), required=False)


class BugForm(forms.Form):
    bug_reference = forms.CharField(label=_("Vendor's bug reference"), max_length=100)
    release = forms.IntegerField(required=False, min_value=1, max_value=2**62)
    new_release = forms.CharField(label=_("Or a new release"), required=False, max_length=100)


class TellRequestersForm(forms.Form):
    tickets = forms.TypedMultipleChoiceField(coerce=int, choices=())  # numbers, set per request
    body = forms.CharField(
        label=_("Public reply"), max_length=20000, widget=forms.Textarea(attrs={"rows": 6})
    )

    def __init__(self, *args, numbers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tickets"].choices = [(n, n) for n in numbers]
