from django.urls import path

from . import views

app_name = "followups"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("reassign/", views.reassign, name="reassign"),
    path("<uuid:pk>/", views.detail, name="detail"),
    path("<uuid:pk>/attempt/", views.attempt, name="attempt"),
    path("<uuid:pk>/work/", views.work, name="work"),
    path("<uuid:pk>/close/", views.close, name="close"),
]
