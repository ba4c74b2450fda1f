from django.urls import path

from procedures.urls import IdConverter  # noqa: F401  (registers the "id" converter)

from . import quiz_views, team_views, views

app_name = "training"
urlpatterns = [
    # the trainee's own pages (views.py)
    path("", views.my_training, name="home"),
    path("to-confirm/", views.to_confirm, name="to_confirm"),
    path("read/<id:page_id>/confirm/", views.confirm_read, name="confirm_read"),
    path("items/<id:progress_id>/request-sign-off/", views.request_sign_off, name="request_sign_off"),
    path("practice/cards/<id:card_id>/", views.card_detail, name="card"),
    path("practice/cards/<id:card_id>/start/", views.start_card_practice, name="start_practice"),
    path("practice/<uuid:session_id>/", views.practice_feedback, name="practice_feedback"),
    # quizzes (quiz_views.py)
    path("quizzes/<id:quiz_id>/", quiz_views.quiz_detail, name="quiz"),
    path("quizzes/<id:quiz_id>/start/", quiz_views.start_attempt, name="start_attempt"),
    path("attempts/<uuid:attempt_id>/", quiz_views.attempt, name="attempt"),
    # mentors, trainers and supervisors (team_views.py)
    path("team/", team_views.dashboard, name="dashboard"),
    path("team/sign-off/", team_views.sign_off_queue, name="sign_off_queue"),
    path("team/trainees/<id:assignment_id>/", team_views.trainee, name="trainee"),
    path("team/items/<id:progress_id>/status/", team_views.change_status, name="change_status"),
    path("team/trainees/<id:assignment_id>/licence/", team_views.grant_licence, name="grant_licence"),
]
