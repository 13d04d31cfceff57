"""Signing in and out at ``/login/`` — one form for staff and customers — and resetting a
forgotten password by email. Staff land on the desk, customers on the portal.

Failed attempts are throttled by django-axes (``accounts.signin``): this form signs in
through ``authenticate(request, ...)``, which counts them. The reset email goes out through
the outbox like every other email, so an SMTP outage delays it instead of failing the page.
"""

from django import forms
from django.contrib import auth
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.shortcuts import redirect, render, resolve_url
from django.template import loader
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from servicedesk.mail.outbox import queue_email


class SignInForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, request, *args, **kwargs):
        self.request = request
        self.user = None
        super().__init__(*args, **kwargs)

    def clean(self):
        email, password = self.cleaned_data.get("email"), self.cleaned_data.get("password")
        if email and password:
            user = auth.authenticate(self.request, username=email.lower(), password=password)
            if user is None or not user.is_active:
                raise forms.ValidationError(
                    _("That email address and password do not match an account."),
                    code="invalid_login",
                )
            self.user = user
        return self.cleaned_data


def landing(user) -> str:
    """Where a signed-in person starts: staff on the desk, customers on the portal."""
    return reverse("desk:queue") if user.is_staff else reverse("portal:home")


def _next(request, user) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    safe = wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    # a customer asking for a desk page lands on the portal instead of a refusal
    if safe and (user.is_staff or not wanted.startswith(reverse("desk:queue"))):
        return wanted
    return landing(user)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request):
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(_next(request, request.user))
    form = SignInForm(request, data=request.POST if request.method == "POST" else None)
    if form.is_valid():
        auth.login(request, form.user)
        return redirect(_next(request, form.user))
    return render(
        request,
        "desk/signin/login.html",
        {"form": form, "next": request.POST.get("next") or request.GET.get("next", "")},
        status=200 if request.method == "GET" or form.is_valid() else 400,
    )


@require_POST
def sign_out(request):
    auth.logout(request)
    return redirect(resolve_url("signin"))


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form, its email queued in the outbox instead of sent in the request."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        queue_email(to=[to_email], subject=subject, body_text=body, new_key=True)


# The desk's own templates (the admin's registration/ ones would win by app order).
class PasswordReset(auth_views.PasswordResetView):
    form_class = OutboxPasswordResetForm
    success_url = reverse_lazy("password_reset_done")
    template_name = "desk/signin/password_reset_form.html"
    email_template_name = "desk/signin/password_reset_email.txt"
    subject_template_name = "desk/signin/password_reset_subject.txt"


class PasswordResetDone(auth_views.PasswordResetDoneView):
    template_name = "desk/signin/password_reset_done.html"


class PasswordResetConfirm(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("password_reset_complete")
    template_name = "desk/signin/password_reset_confirm.html"


class PasswordResetComplete(auth_views.PasswordResetCompleteView):
    template_name = "desk/signin/password_reset_complete.html"
