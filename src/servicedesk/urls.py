from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from servicedesk.api.api import api
from servicedesk.desk import signin
from servicedesk.ops.views import health
from servicedesk.portal import access
from servicedesk.tickets.views import download_attachment

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="signin", permanent=False)),
    path("login/", signin.sign_in, name="signin"),
    path("logout/", signin.sign_out, name="signout"),
    path("password/reset/", signin.PasswordReset.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        signin.PasswordResetDone.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        signin.PasswordResetConfirm.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        signin.PasswordResetComplete.as_view(),
        name="password_reset_complete",
    ),
    path("desk/", include("servicedesk.desk.urls")),
    path("portal/", include("servicedesk.portal.urls")),
    path("status/", access.status, name="status"),
    path("health", health, name="health"),
    path("attachments/<int:attachment_id>/", download_attachment, name="attachment-download"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
