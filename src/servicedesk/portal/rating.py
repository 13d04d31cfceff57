"""The portal: rating pages (being built)."""

urlpatterns: list = []
