from workers.scheduler.base import Scheduler, SchedulerError, SchedulerUnavailable

# name -> class; the Docker engine backend and the Kubernetes backend register here.
SCHEDULERS = {}


def get_scheduler(settings):
    cls = SCHEDULERS.get(settings.scheduler)
    if cls is None:
        available = ", ".join(sorted(SCHEDULERS)) or "none are installed yet"
        raise SchedulerUnavailable(
            f"No scheduler is configured: PIER_SCHEDULER is {settings.scheduler!r} "
            f"(available: {available}).")
    return cls(settings)


__all__ = ["SCHEDULERS", "Scheduler", "SchedulerError", "SchedulerUnavailable", "get_scheduler"]
