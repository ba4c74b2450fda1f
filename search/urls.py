from django.urls import path

from . import clicks, views

app_name = "search"
urlpatterns = [
    path("", views.search, name="search"),
    path("api/", views.search_api, name="api"),
    path("suggest/", views.suggest, name="suggest"),
    path("open/", clicks.open_hit, name="open"),
]
