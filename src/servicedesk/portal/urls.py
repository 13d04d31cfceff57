from servicedesk.portal import access, people, rating, views

app_name = "portal"

# Each module of the portal declares its own pages.
urlpatterns = [*views.urlpatterns, *access.urlpatterns, *people.urlpatterns, *rating.urlpatterns]
