"""The Docker backend of the scheduler port: one host's Docker engine runs every process as a container."""
from workers.scheduler.docker.scheduler import DockerScheduler

__all__ = ["DockerScheduler"]
