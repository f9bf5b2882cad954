from django.contrib.auth.views import LogoutView
from django.urls import path

from . import views

app_name = "certification"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("login/pensioner/", views.pensioner_login, name="pensioner_login"),
    path("login/pensioner/code/", views.pensioner_login_code, name="pensioner_login_code"),
    path("login/relative/", views.relative_login, name="relative_login"),
    path("login/relative/code/", views.relative_login_code, name="relative_login_code"),
    path("me/", views.pensioner_home, name="pensioner_home"),
    path("relative/", views.relative_home, name="relative_home"),
    path("staff/", views.staff_home, name="staff_home"),
    path("admin-home/", views.admin_home, name="admin_home"),
    path("text-size/", views.text_size, name="text_size"),
]
