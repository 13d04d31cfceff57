"""Failed sign-ins, throttled by django-axes (settings: ``AXES_*``): whose account and which
address an attempt counts against, and the page a locked-out sign-in gets."""

from django.conf import settings
from django.contrib import admin
from django.shortcuts import render
from django.utils.translation import gettext

from servicedesk.core.csp import allow_unfold


def attempted_email(request, credentials: dict | None = None) -> str | None:
    """The account an attempt names, as stored (addresses are kept in lower case), so that
    ``Admin@…`` and ``admin@…`` count against the same account."""
    if credentials is None:
        credentials = getattr(request, "data", None) or request.POST
    value = credentials.get("username") or credentials.get("email") or ""
    return value.strip().lower() or None


def client_address(request) -> str | None:
    """The client's address: the connection's, or behind ``SERVICEDESK_TRUSTED_PROXIES``
    proxies the one the outermost of them saw (each appends to X-Forwarded-For; what a
    client wrote there itself comes before and is ignored)."""
    proxies = settings.SERVICEDESK_TRUSTED_PROXIES
    if proxies:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR")


def locked_out(request, original_response=None, credentials: dict | None = None):
    """429 with a page in the admin's style that says how long to wait."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {
        **admin.site.each_context(request),
        "title": gettext("Too many failed sign-ins"),
        "cooloff_minutes": minutes,
    }
    response = render(request, "accounts/locked_out.html", context, status=429)
    response["Retry-After"] = str(minutes * 60)
    return allow_unfold(response)
