"""The Content-Security-Policy: django-csp's middleware and ``CONTENT_SECURITY_POLICY``, with
what the admin's theme (django-unfold) needs added on the pages it draws, and only there."""

from csp.constants import UNSAFE_EVAL, UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts

# What django-unfold's pages need beyond the site-wide policy (checked in Chromium, unfold
# 0.91): its bundled Alpine.js is the standard build, which compiles every x-data, x-show and
# x-on attribute with new Function(): without 'unsafe-eval' nothing on the page reacts and
# a modal that should stay hidden covers the sign-in form. It writes its theme colours in an inline <style> element and
# htmx adds another: without 'unsafe-inline' for styles the colours are gone. Still no inline
# <script> there, and none anywhere else: the API docs and every other page get the policy as
# it stands in settings.
UNFOLD_ADDITIONS: dict[str, list[str]] = {"script-src": [UNSAFE_EVAL], "style-src": [UNSAFE_INLINE]}


def allow_unfold(response):
    """Mark a response drawn with django-unfold's layout (outside the admin's URLs)."""
    response._csp_update = {**UNFOLD_ADDITIONS, **(getattr(response, "_csp_update", None) or {})}
    return response


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        match = getattr(request, "resolver_match", None)
        if not report_only and match is not None and "admin" in match.namespaces:
            parts.update = {**UNFOLD_ADDITIONS, **(parts.update or {})}
        return parts
