from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from servicedesk.api.api import api
from servicedesk.ops.views import health
from servicedesk.tickets.views import download_attachment

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("health", health, name="health"),
    path("attachments/<int:attachment_id>/", download_attachment, name="attachment-download"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
