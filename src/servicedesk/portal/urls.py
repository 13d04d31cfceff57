from servicedesk.portal import access, change_links, change_report, changes, people, rating, views

app_name = "portal"

# Each module of the portal declares its own pages. The report's fixed address comes before
# the change requests' "changes/<number>/".
urlpatterns = [
    *views.urlpatterns,
    *access.urlpatterns,
    *people.urlpatterns,
    *rating.urlpatterns,
    *change_links.urlpatterns,
    *change_report.urlpatterns,
    *changes.urlpatterns,
]
