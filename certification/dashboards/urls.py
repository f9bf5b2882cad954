from django.urls import path

from . import views

app_name = "dashboards"
urlpatterns = [
    path("", views.city, name="city"),
    path("district/<int:pk>/", views.district, name="district"),
    path("office/<int:pk>/", views.office, name="office"),
    path("<str:level>/<int:pk>/<slug:slug>.xlsx", views.export, name="export"),
]
