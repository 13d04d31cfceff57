from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    name = "servicedesk.desk"
    label = "desk"
    verbose_name = _("Desk")

    def ready(self) -> None:
        from servicedesk.core import config_cache

        # The desk's lists of products, categories and canned replies (desk.forms, the
        # ticket page) are memoised; groups and staff are watched by core already.
        config_cache.watch(
            *(apps.get_model(label) for label in ("tickets.Product", "tickets.Category")),
            self.get_model("Macro"),
        )
