from django.urls import path, register_converter

from procedures.urls import IdConverter

from . import views

register_converter(IdConverter, "feedback_id")

app_name = "feedback"
urlpatterns = [
    path("", views.handle_list, name="list"),
    path("new/", views.new, name="new"),
    path("mine/", views.mine, name="mine"),
    path("<feedback_id:pk>/", views.detail, name="detail"),
    path("<feedback_id:pk>/handle/", views.handle, name="handle"),
    path("<feedback_id:pk>/answer/", views.answer, name="answer"),
]
