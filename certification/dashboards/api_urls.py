from django.urls import path

from . import api

urlpatterns = [
    path("dashboards/figures/", api.FigureList.as_view(), name="dashboard-figures"),
    path("dashboards/<str:level>/<int:scope_id>/", api.PanelsView.as_view(), name="dashboard-panels"),
]
