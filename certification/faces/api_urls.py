"""Mounted at /api/v1/faces/ (config/urls.py, api namespace)."""

from django.urls import path

from . import api

urlpatterns = [
    path("sessions/", api.SessionStartView.as_view(), name="faces-sessions"),
    path("sessions/<str:session_id>/prompt/", api.PromptView.as_view(), name="faces-prompt"),
    path("sessions/<str:session_id>/frames/", api.FramesView.as_view(), name="faces-frames"),
    path("attempts/<int:attempt_id>/", api.AttemptView.as_view(), name="faces-attempt"),
]
