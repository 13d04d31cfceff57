from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "servicedesk.api"
    label = "api"
    verbose_name = _("API")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from servicedesk.api import tokens, webhooks

        webhooks.connect()
        post_save.connect(
            tokens.on_user_saved, sender="accounts.User", dispatch_uid="api-token-cache"
        )
