from django.urls import path

from . import api

urlpatterns = [
    path("batches/", api.BatchListCreate.as_view(), name="feed-batches"),
    path("batches/<int:pk>/", api.BatchDetail.as_view(), name="feed-batch"),
    path("batches/<int:pk>/errors/", api.BatchErrors.as_view(), name="feed-batch-errors"),
]
