"""Evidence feeds from other agencies. (The big-data issue extends this app.)"""

from django.db import models


class FraudAlert(models.Model):
    """Qualifying evidence dated after a recorded death: someone uses a dead person's card."""

    class State(models.TextChoices):
        OPEN = "open", "待核查"
        CLOSED = "closed", "已处理"

    pensioner = models.ForeignKey("certification.Pensioner", on_delete=models.CASCADE, related_name="fraud_alerts")
    source = models.CharField(max_length=32)
    source_ref = models.CharField(max_length=128)
    event_date = models.DateField()
    death_date = models.DateField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "冒领预警"
        constraints = [
            models.UniqueConstraint(fields=["source", "source_ref"], name="fraudalert_once_per_record")
        ]
