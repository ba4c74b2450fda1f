from django.urls import path

from procedures.urls import IdConverter  # noqa: F401  (registers the "id" converter)

from . import views

app_name = "changes"
urlpatterns = [
    path("", views.my_notices, name="mine"),
    path("<id:notice_id>/", views.notice_detail, name="notice"),
]
