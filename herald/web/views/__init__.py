"""One module per area of the interface; each ends with its `urlpatterns`, included once by herald/web/urls.py."""
