"""The API: one NinjaAPI at /api/v1/, Bearer tokens, domain errors mapped to statuses.

Handlers (one module per resource) stay thin: parse, call a service or selector, present.
"""

import functools
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from servicedesk.api import tokens
from servicedesk.api.common import PreconditionFailed
from servicedesk.core import clock
from servicedesk.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from servicedesk.tickets.services import AttachmentTooLarge

logger = logging.getLogger(__name__)


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many requests.")
        self.retry_after = retry_after


def check_rate(token_id: int) -> None:
    """A fixed one-minute window per token: ``SERVICEDESK_API_RATE_LIMIT`` requests."""
    limit = settings.SERVICEDESK_API_RATE_LIMIT
    if not limit:
        return
    now = time.time()
    window = int(now // 60)
    key = f"api-rate:{token_id}:{window}"
    cache.add(key, 0, timeout=120)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=120)
        used = 1
    if used > limit:
        raise RateLimited(retry_after=max(1, int((window + 1) * 60 - now) + 1))


class BearerToken(HttpBearer):
    openapi_description = "A token from `servicedesk token create EMAIL`."

    def authenticate(self, request, token):
        row = tokens.authenticate(token)
        if row is None:
            return None
        check_rate(row.pk)
        now = clock.now()
        if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
            type(row).objects.filter(pk=row.pk).update(last_used_at=now)  # once a minute at most
        request.user = row.user
        # The token's user reads the answers (errors included) in their own language, as on
        # the pages (core.middleware: a language picked in this browser wins).
        if row.user.language and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            translation.activate(row.user.language)
            request.LANGUAGE_CODE = row.user.language
        return row.user


# Longer paths with their query strings are refused before anything reads them: 414, our
# JSON error, whichever server let the request in (granian, a proxy with a larger limit, the
# test client). Just under gunicorn's own limit, a request line (method, URI, version) of
# 4,094 bytes, over which gunicorn answers 414 itself with a page of its own. No valid
# request comes near either: the longest query parameters take a few hundred characters.
MAX_URI = 4000

# What the web server in front answers when the request line is over its own limit, before
# the request reaches us (gunicorn: text/html), or our check above (JSON). Any operation can
# meet it, so every one documents it.
URI_TOO_LONG = {
    "description": f"URI Too Long: the path and query string exceed {MAX_URI:,} bytes. An "
    "`Error` from the API, or a text/html page from the web server when the request line "
    "exceeds its own limit (gunicorn: 4,094 bytes).",
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}},
        "text/html": {"schema": {"type": "string"}},
    },
}


# What any operation with a body can meet: a body over Django's DATA_UPLOAD_MAX_MEMORY_SIZE
# (or, on a reply, an attachment over its own limit).
PAYLOAD_TOO_LARGE = {
    "description": "Payload Too Large: the request body exceeds the limit, or an attachment "
    "exceeds the attachment limit.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


class ServicedeskAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        schema = super().get_openapi_schema(**kwargs)
        for operations in schema["paths"].values():
            for operation in operations.values():
                answers = {414: URI_TOO_LONG, **operation["responses"]}
                if "requestBody" in operation:
                    answers[413] = PAYLOAD_TOO_LARGE
                operation["responses"] = dict(sorted(answers.items(), key=lambda a: str(a[0])))
        return schema


api = ServicedeskAPI(
    title="Servicedesk API",
    version="1",
    description="Everything a person can do on the desk's pages. Tokens act as their user.",
    auth=BearerToken(),
    urls_namespace="api",
)


def refuse_nul(view):
    """NUL characters go nowhere (PostgreSQL text cannot hold them): refused before anything.

    The body is read here first: one over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a 413 ``Error``."""

    @functools.wraps(view)
    def checked(request, *args, **kwargs):
        query = request.META.get("QUERY_STRING", "")
        try:
            body = request.body if request.method in ("POST", "PUT", "PATCH") else b""
        except RequestDataTooBig:  # Django's own answer is its HTML 400 page
            return error(
                request,
                413,
                "payload_too_large",
                gettext("The request body is larger than %(limit)s bytes.")
                % {
                    "limit": number_format(
                        settings.DATA_UPLOAD_MAX_MEMORY_SIZE, force_grouping=True
                    )
                },
            )
        if (
            "\x00" in request.path
            or "%00" in query
            or "\x00" in query
            or b"\x00" in body
            or b"\\u0000" in body
        ):
            return error(
                request, 422, "invalid_request", gettext("NUL characters are not accepted.")
            )
        return view(request, *args, **kwargs)

    return checked


api.add_decorator(refuse_nul, mode="view")


def refuse_long_uri(view):
    """414 for a path and query string over ``MAX_URI`` bytes, whichever server let it in."""

    @functools.wraps(view)
    def checked(request, *args, **kwargs):
        if len(request.get_full_path()) > MAX_URI:
            return error(
                request,
                414,
                "uri_too_long",
                gettext("The path and query string are longer than %(limit)s bytes.")
                % {"limit": number_format(MAX_URI, force_grouping=True)},
            )
        return view(request, *args, **kwargs)

    return checked


api.add_decorator(refuse_long_uri, mode="view")


def error(request, status: int, code: str, message: str, errors=None, headers=None):
    body = {"code": code, "message": message}
    if errors is not None:
        body["errors"] = errors
    response = api.create_response(request, body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    if isinstance(exc, NotFound):
        status = 404
    elif isinstance(exc, AttachmentTooLarge):
        status = 413
    elif isinstance(exc, PreconditionFailed):
        status = 412
    elif isinstance(exc, Conflict):
        status = 409
    elif isinstance(exc, PermissionDenied):
        status = 403  # only for what the caller can see: what they cannot see is a 404
    else:
        status = 422
    return error(request, status, exc.code, exc.localized())


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    errors = [
        {
            "loc": [str(part) for part in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors
    ]
    message = gettext("The request does not match the schema.")
    return error(request, 422, "invalid_request", message, errors)


@api.exception_handler(AuthenticationError)
def _unauthorised(request, exc):
    return error(
        request,
        401,
        "unauthorized",
        gettext("A valid token is required: Authorization: Bearer <token>."),
        headers={"WWW-Authenticate": "Bearer"},
    )


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    code = "bad_request" if exc.status_code == 400 else f"http_{exc.status_code}"
    return error(request, exc.status_code, code, exc.message)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error(request, 404, "not_found", gettext("Not found."))


@api.exception_handler(RateLimited)
def _rate_limited(request, exc: RateLimited):
    return error(
        request,
        429,
        "rate_limited",
        gettext("More than %(limit)s requests a minute with this token.")
        % {"limit": settings.SERVICEDESK_API_RATE_LIMIT},
        headers={"Retry-After": str(exc.retry_after)},
    )


def _register_routers() -> None:
    from servicedesk.api import changes, directory, escalations, imports, tickets, webhooks_api

    api.add_router("/tickets", tickets.router, tags=["tickets"])
    api.add_router("/", escalations.router, tags=["escalations"])
    api.add_router("/", changes.router, tags=["changes"])
    api.add_router("/imports", imports.router, tags=["imports"])
    api.add_router("/webhooks", webhooks_api.router, tags=["webhooks"])
    api.add_router("/", directory.router, tags=["directory"])


_register_routers()
