"""A beat scheduler that breaks after its first round (tests/integration/test_beat.py): `--scheduler
tests.support.failing_beat:Scheduler` on a worker started with --beat-thread."""
from celery.beat import PersistentScheduler


class Scheduler(PersistentScheduler):
    rounds = 0

    def tick(self, *args, **kwargs):
        Scheduler.rounds += 1
        if Scheduler.rounds > 1:
            raise RuntimeError("the schedule broke")
        return super().tick(*args, **kwargs)
