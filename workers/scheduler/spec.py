"""The data crossing the scheduler port: what to run (a release spec) and what runs (pods)."""
from dataclasses import dataclass, field

from core.units import cpus, request_and_limit

ROUTABLE_TYPES = ("web", "cmd")  # the process types the router sends traffic to
POD_STATES = ("up", "starting", "crashed", "down", "error")


def utilization(cores, request):
    """Cores in use as the autoscaler judges them: percent of the CPU request, or of one core without one."""
    return 100.0 * cores / (request or 1.0)


@dataclass(frozen=True)
class ReleaseSpec:
    """One release of one app, as every backend needs it; built from database rows by the workers."""
    app: str
    app_uuid: str
    version: int
    image: str
    procfile: dict = field(default_factory=dict)  # process type -> command; empty: the image's own CMD
    env: dict = field(default_factory=dict)  # config values plus DEIS_APP, DEIS_RELEASE, SOURCE_VERSION
    memory: dict = field(default_factory=dict)  # process type -> "512M" or "256M/512M" (request/limit)
    cpu: dict = field(default_factory=dict)  # process type -> "500m" or "100m/500m"
    tags: dict = field(default_factory=dict)  # node labels every process must run on
    registry: dict = field(default_factory=dict)  # {"username", "password"} to pull a private image
    healthcheck: dict = field(default_factory=dict)  # process type -> {"readinessProbe", "livenessProbe"}
    dockerfile: bool = False

    @property
    def release(self):
        return f"v{self.version}"

    def command(self, process_type):
        """The Procfile command of a type, or None to run the image's own CMD (`cmd` without a Procfile)."""
        return self.procfile.get(process_type) or None

    def cpu_request(self, process_type):
        """The cores a process of the type asks for: its CPU request, else its limit (Kubernetes' default
        request), else None (`limits:set --cpu` set nothing)."""
        request, limit = request_and_limit(self.cpu.get(process_type))
        return cpus(request or limit) if (request or limit) else None

    def probe(self, process_type, kind):
        """The type's `readinessProbe` or `livenessProbe`, or None."""
        return (self.healthcheck.get(process_type) or {}).get(kind)


@dataclass(frozen=True)
class Pod:
    """One running instance of a process type, as `ps` shows it."""
    name: str
    type: str
    release: str  # "v3"
    state: str  # one of POD_STATES
    started: str = ""  # ISO 8601 UTC, "" when it never started
    ready: bool = False  # passes its readiness check and may receive traffic
    reason: str = ""  # why it is not up, when the backend knows (OOMKilled, CrashLoopBackOff, ...)
    recovering: bool = False  # down, but its runtime is restarting it by itself (with backoff)
    endpoint: str = ""  # "host:port" the router may send traffic to, while it is up and of a routable type
    app_uuid: str = ""  # the app it belongs to, so that a lingering process of an earlier same-named app is told apart

    def as_api(self):
        shown = {"name": self.name, "release": self.release, "started": self.started, "state": self.state,
                 "type": self.type}
        if self.reason:
            shown["reason"] = self.reason
        return shown
