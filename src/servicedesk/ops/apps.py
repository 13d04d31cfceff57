from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "servicedesk.ops"
    label = "ops"
    verbose_name = "Operations"
