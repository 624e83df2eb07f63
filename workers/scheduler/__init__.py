"""The scheduler port and its backends, chosen by PIER_SCHEDULER."""
from workers.scheduler.base import Routing, Scheduler, SchedulerError, SchedulerUnavailable
from workers.scheduler.docker import DockerScheduler
from workers.scheduler.memory import MemoryScheduler
from workers.scheduler.spec import Pod, ReleaseSpec

SCHEDULERS = {"docker": DockerScheduler, "memory": MemoryScheduler}


def get_scheduler(settings, routing=None):
    """The configured backend, handing endpoint changes to `routing` (nothing is routed without one)."""
    cls = SCHEDULERS.get(settings.scheduler)
    if cls is None:
        available = ", ".join(sorted(SCHEDULERS))
        raise SchedulerUnavailable(
            f"No scheduler is configured: PIER_SCHEDULER is {settings.scheduler!r} (available: {available}).")
    return cls(settings, routing)


__all__ = ["SCHEDULERS", "Pod", "ReleaseSpec", "Routing", "Scheduler", "SchedulerError", "SchedulerUnavailable",
           "get_scheduler"]
