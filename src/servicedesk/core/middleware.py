"""Show each signed-in user the interface in their own language and time zone."""

import zoneinfo

from django.conf import settings
from django.utils import timezone, translation


class UserLocaleMiddleware:
    """Runs after authentication; the user's saved preferences beat the browser's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # A language picked in this browser (the switcher's cookie) wins over the profile.
            if user.language and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
                translation.activate(user.language)
                request.LANGUAGE_CODE = user.language
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.timezone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)
