"""The scheduler port and its backends, chosen by PIER_SCHEDULER."""
from workers.scheduler.base import Routing, Scheduler, SchedulerError, SchedulerUnavailable
from workers.scheduler.docker import DockerScheduler
from workers.scheduler.memory import MemoryScheduler
from workers.scheduler.spec import Pod, ReleaseSpec



def kubernetes_scheduler(settings, routing=None):
    """The Kubernetes backend, imported only when chosen: its client takes a second to import."""
    from workers.scheduler.kubernetes import KubernetesScheduler
    return KubernetesScheduler(settings, routing)


SCHEDULERS = {"docker": DockerScheduler, "memory": MemoryScheduler, "kubernetes": kubernetes_scheduler}


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
