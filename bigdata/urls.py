from django.urls import path

from . import views

app_name = "bigdata"
urlpatterns = [
    path("batches/", views.batches, name="batches"),
    path("batches/<int:pk>/errors.csv", views.batch_errors, name="batch_errors"),
    path("fraud-alerts/", views.fraud_alerts, name="fraud_alerts"),
    path("fraud-alerts/<int:pk>/", views.fraud_alert_detail, name="fraud_alert"),
    path("overpayments/", views.overpayments, name="overpayments"),
    path("overpayments/<int:pk>/", views.overpayment_detail, name="overpayment"),
]
