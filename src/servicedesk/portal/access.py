"""The portal: access pages (being built)."""

urlpatterns: list = []
