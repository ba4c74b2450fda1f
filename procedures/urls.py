from django.urls import path, register_converter
from django.urls.converters import IntConverter

from . import views


class IdConverter(IntConverter):
    """An id the databases can hold (up to 18 digits): a longer one is a 404, not an overflow (500)."""

    regex = "[0-9]{1,18}"


register_converter(IdConverter, "id")

app_name = "procedures"
urlpatterns = [
    path("start/<id:page_id>/", views.start, name="start"),
    path("runs/", views.my_runs, name="my_runs"),
    path("runs/<uuid:run_id>/", views.run_detail, name="run"),
    path("runs/<uuid:run_id>/move/", views.run_move, name="move"),
    path("runs/<uuid:run_id>/continue/", views.continue_run, name="continue"),
    path("runs/<uuid:run_id>.json", views.run_json, name="run_json"),
    path("runs/<uuid:run_id>/replay/", views.run_replay, name="replay_start"),
    path("runs/<uuid:run_id>/replay/<int:seq>/", views.run_replay, name="replay"),
]
