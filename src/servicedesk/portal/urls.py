from servicedesk.portal import access, rating, views

app_name = "portal"

# Each module of the portal declares its own pages.
urlpatterns = [*views.urlpatterns, *access.urlpatterns, *rating.urlpatterns]
