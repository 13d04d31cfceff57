"""The customer portal. For now: where a customer lands after signing in, with the tickets
they may see (the portal of the next issue builds on it)."""

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET

from servicedesk.tickets import selectors


@require_GET
def home(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("signin"))
    rows = (
        selectors.tickets_for(request.user)
        .select_related("requester")
        .order_by("-created_at", "-number")[:50]
    )
    return render(request, "portal/home.html", {"rows": rows})


urlpatterns = [path("", home, name="home")]
