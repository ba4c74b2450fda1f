from django.urls import path

from . import views

app_name = "procedures"
urlpatterns = [
    path("start/<int:page_id>/", views.start, name="start"),
    path("runs/", views.my_runs, name="my_runs"),
    path("runs/<uuid:run_id>/", views.run_detail, name="run"),
    path("runs/<uuid:run_id>/move/", views.run_move, name="move"),
    path("runs/<uuid:run_id>.json", views.run_json, name="run_json"),
]
