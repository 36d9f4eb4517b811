"""What the sweeps did, who holds a practice's sweep, and which workers are alive."""

from django.db import models

from pedsdesk.fields import FieldRules


class SweepRun(FieldRules, models.Model):
    """One sweep run for one practice (or, for a sweep over every practice, none)."""

    practice = models.ForeignKey("practices.Practice", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="sweep_runs")
    sweep = models.CharField(max_length=80)
    schedule = models.CharField(max_length=10)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=120, blank=True)

    class Meta:
        indexes = [models.Index(fields=["sweep", "practice", "-started_at"]),
                   models.Index(fields=["-started_at"])]

    def __str__(self) -> str:
        return f"{self.sweep} for practice {self.practice_id} at {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def state(self) -> str:
        if self.finished_at is None:
            return "running"
        return "failed" if self.error else "ok"


class SweepLease(FieldRules, models.Model):
    """Who runs one schedule's sweeps for one practice now: taken with a conditional
    update, so two workers never overlap, and it runs out if its worker dies."""

    key = models.CharField(max_length=80, unique=True)
    token = models.CharField(max_length=64, blank=True)
    held_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.key


class SweepMark(FieldRules, models.Model):
    """What one practice's sweep last saw (its ``due`` mark, hashed), and when the fan-out
    last found it unchanged: the fan-out runs the sweep again only once the mark moves."""

    practice = models.ForeignKey("practices.Practice", on_delete=models.CASCADE, related_name="+")
    sweep = models.CharField(max_length=80)
    mark = models.CharField(max_length=64)
    checked_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sweep", "practice"], name="one_mark_per_practice_sweep")]

    def __str__(self) -> str:
        return f"{self.sweep} for practice {self.practice_id}"


class WorkerHeartbeat(FieldRules, models.Model):
    worker = models.CharField(max_length=120, unique=True)
    seen_at = models.DateTimeField()
    tasks_run = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return self.worker
