from django.apps import AppConfig, apps


class CoreConfig(AppConfig):
    name = "servicedesk.core"
    label = "core"

    def ready(self) -> None:
        from servicedesk.core import config_cache

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
