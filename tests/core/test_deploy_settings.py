"""Sign-in and transport settings: what the environment sets reaches the settings, a malformed
value stops start-up naming it, `servicedesk check --deploy` passes with production values,
and every page carries a Content-Security-Policy without inline scripts."""

import os
import runpy
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

import servicedesk.settings

SETTINGS_FILE = servicedesk.settings.__file__

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "SERVICEDESK_SECURE_COOKIES": "true",
    "SERVICEDESK_HSTS_SECONDS": "31536000",
    "SERVICEDESK_SSL_REDIRECT": "true",
    "ALLOWED_HOSTS": "desk.example.com",
}


def run_check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SERVICEDESK_", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"))
    }
    return subprocess.run(
        [sys.executable, "-m", "servicedesk.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env={**clean, "SERVICEDESK_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def load_settings(monkeypatch, tmp_path, **env: str) -> dict:
    """The settings module run afresh with ``env``: what start-up would make of it."""
    monkeypatch.setenv("SERVICEDESK_DATA_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(SETTINGS_FILE)


# -- servicedesk check --deploy ------------------------------------------------------------


def test_the_deployment_checks_pass_with_production_settings(tmp_path):
    result = run_check(tmp_path, **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deployment_checks_name_what_the_defaults_leave_out(tmp_path):
    result = run_check(tmp_path)

    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr


# -- the environment reaches the settings --------------------------------------------------


def test_production_values_reach_the_settings(monkeypatch, tmp_path):
    values = load_settings(
        monkeypatch,
        tmp_path,
        **PRODUCTION,
        SERVICEDESK_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO=https",
        SERVICEDESK_TRUSTED_PROXIES="2",
        SERVICEDESK_LOGIN_FAILURE_LIMIT="8",
        SERVICEDESK_LOGIN_COOLOFF_MINUTES="30",
    )

    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] == 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert values["SERVICEDESK_TRUSTED_PROXIES"] == 2
    assert values["AXES_FAILURE_LIMIT"] == 8
    assert values["AXES_COOLOFF_TIME"].total_seconds() == 30 * 60


def test_the_defaults_work_on_plain_http(monkeypatch, tmp_path):
    for name in (
        "SERVICEDESK_SECURE_COOKIES",
        "SERVICEDESK_HSTS_SECONDS",
        "SERVICEDESK_SSL_REDIRECT",
        "SERVICEDESK_PROXY_SSL_HEADER",
    ):
        monkeypatch.delenv(name, raising=False)

    values = load_settings(monkeypatch, tmp_path)

    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["CSRF_COOKIE_SECURE"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_PROXY_SSL_HEADER"] is None


def test_the_proxy_header_may_be_named_as_it_is_sent(monkeypatch, tmp_path):
    values = load_settings(
        monkeypatch, tmp_path, SERVICEDESK_PROXY_SSL_HEADER="X-Forwarded-Proto=https"
    )

    assert values["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SERVICEDESK_SECURE_COOKIES", "maybe"),
        ("SERVICEDESK_SSL_REDIRECT", "sometimes"),
        ("SERVICEDESK_HSTS_SECONDS", "one year"),
        ("SERVICEDESK_HSTS_SECONDS", "-1"),
        ("SERVICEDESK_PROXY_SSL_HEADER", "https"),
        ("SERVICEDESK_PROXY_SSL_HEADER", "X-Forwarded-Proto="),
        ("SERVICEDESK_PROXY_SSL_HEADER", "X Forwarded Proto=https"),
        ("SERVICEDESK_TRUSTED_PROXIES", "-1"),
        ("SERVICEDESK_LOGIN_FAILURE_LIMIT", "0"),
        ("SERVICEDESK_LOGIN_FAILURE_LIMIT", "five"),
        ("SERVICEDESK_LOGIN_COOLOFF_MINUTES", "0"),
    ],
)
def test_a_malformed_value_stops_start_up_naming_the_variable(monkeypatch, tmp_path, name, value):
    with pytest.raises(ImproperlyConfigured, match=name):
        load_settings(monkeypatch, tmp_path, **{name: value})


# -- transport -----------------------------------------------------------------------------


def test_the_ssl_redirect_spares_the_health_probe(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/health").status_code == 200
    response = client.get("/admin/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/admin/login/"


def test_behind_the_proxy_its_header_marks_the_request_secure(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000

    response = client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https")

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


# -- Content-Security-Policy ---------------------------------------------------------------


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {name: values for name, *values in parts}


@pytest.mark.parametrize("path", ["/health", "/api/v1/docs", "/api/v1/openapi.json"])
def test_the_policy_is_strict_outside_the_admin(client, db, path):
    response = client.get(path)

    assert response.status_code == 200
    policy = directives(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]


def test_the_api_docs_page_has_no_inline_script_and_nothing_from_a_cdn(client, db):
    page = client.get("/api/v1/docs").content.decode()

    assert "cdn" not in page.lower()
    for tag in page.split("<script")[1:]:
        attributes = tag.split(">")[0]
        assert "src=" in attributes or 'type="application/json"' in attributes


@pytest.mark.parametrize("path", ["/admin/login/", "/admin/", "/admin/tickets/ticket/"])
def test_the_admin_adds_only_what_its_theme_needs(admin_client, path):
    if path == "/admin/login/":
        admin_client.logout()
    response = admin_client.get(path)

    assert response.status_code == 200
    policy = directives(response)
    # django-unfold's Alpine.js compiles its attributes (eval); its theme colours are an
    # inline <style>. Inline scripts stay forbidden.
    assert policy["script-src"] == ["'self'", "'unsafe-eval'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["frame-ancestors"] == ["'none'"]
