from django.apps import AppConfig, apps


class CoreConfig(AppConfig):
    name = "servicedesk.core"
    label = "core"

    def ready(self) -> None:
        from django.utils.translation import gettext

        from servicedesk.core import config_cache, errors

        errors.use_gettext(gettext)  # domain errors shown in the reader's language

        config_cache.watch(
            *(
                apps.get_model(label)
                for label in (
                    "accounts.Group",
                    "tickets.PriorityBand",
                    "sla.Policy",
                    "sla.PolicyTarget",
                    "sla.Calendar",
                    "sla.OpeningHours",
                    "sla.Closure",
                )
            )
        )
        # The support managers, told of every SLA breach (``sla.selectors.alert_recipients``).
        config_cache.watch(apps.get_model("accounts.User"), only=lambda user: user.is_staff)
