"""The ``servicedesk`` console command: Django's management commands with our settings."""

import os
import sys

# Commands an MTA starts once per message: they skip loading the admin site, a third of the
# start-up time, which they never use.
LIGHT_COMMANDS = {("mail", "ingest")}


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    if tuple(args[:2]) in LIGHT_COMMANDS:
        from django.conf import settings

        settings.INSTALLED_APPS = [
            "django.contrib.admin.apps.SimpleAdminConfig" if app == "django.contrib.admin" else app
            for app in settings.INSTALLED_APPS
        ]
    from django.core.management import execute_from_command_line

    execute_from_command_line(["servicedesk", *args])


if __name__ == "__main__":
    main()
