from workers.scheduler.base import Scheduler, SchedulerError, SchedulerUnavailable
from workers.scheduler.docker import DockerScheduler

# name -> class; the Kubernetes backend registers here too when it lands.
SCHEDULERS = {"docker": DockerScheduler}


def get_scheduler(settings):
    cls = SCHEDULERS.get(settings.scheduler)
    if cls is None:
        available = ", ".join(sorted(SCHEDULERS)) or "none are installed yet"
        raise SchedulerUnavailable(
            f"No scheduler is configured: PIER_SCHEDULER is {settings.scheduler!r} "
            f"(available: {available}).")
    return cls(settings)


__all__ = ["SCHEDULERS", "Scheduler", "SchedulerError", "SchedulerUnavailable", "get_scheduler"]
