"""The in-memory scheduler: every behaviour of the port, with processes simulated inside this process.

For tests and development (`PIER_SCHEDULER=memory`): no container runtime is needed. A process of a web
type really serves HTTP on 127.0.0.1 (GET / answers its image's body, or $MESSAGE; GET /env its environment),
so routing, readiness probes and zero-downtime checks work as they do on Docker. What an image does is
described by an `Image` registered under its name; an unknown image serves its own name.

State lives in this process (`WORLD`), shared by every instance, so it does not survive a restart and is
not shared between processes: run one worker process with it.
"""
import datetime
import json
import shlex
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from core.units import cpus, memory_bytes, request_and_limit
from workers.scheduler.base import Scheduler, SchedulerError
from workers.scheduler.spec import ROUTABLE_TYPES, Pod, utilization

DEFAULT_PORT = 5000


@dataclass
class Image:
    """What an in-memory image does when it runs."""
    body: str = ""  # GET / answers this (or $MESSAGE when set, like the test apps)
    exposed_port: int | None = None  # PORT when config sets none
    crash: tuple | None = None  # (exit code, output): each process exits right after starting
    ready: bool = True  # False: it runs but never accepts connections
    output: tuple = ("listening on {PORT}",)  # lines each process prints when it starts (str.format(**env))


def limits_for(spec, process_type, default_memory=None):
    """The resources a process of `process_type` may use, as a runtime would enforce them (bytes, nanocores);
    without a memory limit of its own, the platform's default."""
    request, limit = request_and_limit(spec.memory.get(process_type) or default_memory)
    _, cpu_limit = request_and_limit(spec.cpu.get(process_type))
    return {"memory": memory_bytes(limit) if limit else None,
            "memory_request": memory_bytes(request) if request else None,
            "nano_cpus": int(cpus(cpu_limit) * 1e9) if cpu_limit else None}


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        process = self.server.process
        if self.path == "/env":
            body = json.dumps(process.env).encode()
        elif self.path == "/missing":
            self.send_error(404)
            return
        elif self.path.startswith("/slow"):
            time.sleep(float(self.path.partition("=")[2] or 2))
            body = b"slow done"
        else:
            body = process.env.get("MESSAGE", process.image.body).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        process.print(f"request {self.path}")

    def log_message(self, fmt, *args):
        pass


@dataclass
class Process:
    """One simulated container."""
    app: str
    app_uuid: str
    name: str
    type: str
    version: int
    index: int
    image: Image
    env: dict
    world: "World"
    limits: dict = field(default_factory=dict)
    cores: float = 0.0  # the CPU it uses, as `docker stats` would say; tests set it
    state: str = "starting"
    started: str = ""
    server: ThreadingHTTPServer | None = None
    lines: list = field(default_factory=list)

    def print(self, text):
        self.world.emit(self.app, self.name, text)

    def start(self):
        self.started = now()[:19] + "Z"
        for line in self.image.output:
            self.print(line.format(**self.env))
        if self.image.crash:
            code, output = self.image.crash
            for line in output.splitlines():
                self.print(line)
            self.state = "crashed"
            return
        self.state = "up"
        if self.type in ROUTABLE_TYPES and self.image.ready:
            self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
            self.server.daemon_threads = True
            self.server.process = self
            threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self, state="down"):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        self.state = state

    @property
    def endpoint(self):
        return f"127.0.0.1:{self.server.server_address[1]}" if self.server else None

    def pod(self):
        return Pod(name=self.name, type=self.type, release=f"v{self.version}", state=self.state,
                   started=self.started, ready=self.state == "up" and (self.server is not None
                                                                       or self.type not in ROUTABLE_TYPES),
                   endpoint=self.endpoint if self.state == "up" else "", app_uuid=self.app_uuid)


class World:
    """Everything the in-memory runtime holds: images, processes, node labels and printed lines."""

    def __init__(self):
        self.lock = threading.RLock()
        self.printed = threading.Condition(self.lock)
        self.images = {}
        self.processes = {}  # name -> Process
        self.node_labels = {}
        self.log = []  # (app, pod, stamp, text), in order

    def emit(self, app, pod, text):
        with self.printed:
            self.log.append((app, pod, now(), text))
            self.printed.notify_all()

    def reset(self):
        with self.lock:
            for process in self.processes.values():
                process.stop()
            self.processes.clear()
            self.images.clear()
            self.node_labels.clear()
            self.log.clear()

    def burn(self, app, process_type, cores):
        """Makes every process of the app's type use this many cores, as the autoscaler samples them."""
        with self.lock:
            for process in self.processes.values():
                if process.app == app and process.type == process_type:
                    process.cores = cores

    def kill(self, name):
        """Simulates a process killed from outside (`docker kill`): it stays down until something acts."""
        with self.lock:
            self.processes[name].stop(state="crashed")


WORLD = World()


def run_script(command, env):
    """(exit code, output) of a small subset of sh: `echo`, `printenv NAME`, `true`, `false`, `exit N`,
    joined by `;` or `&&`. Anything else is `command not found` (127), as a shell would say."""
    output, code = [], 0
    for part in command.replace("&&", ";").split(";"):
        words = shlex.split(part)
        if not words:
            continue
        name, args = words[0], words[1:]
        if name == "echo":
            output.append(" ".join(args) + "\n")
            code = 0
        elif name == "printenv":
            value = env.get(args[0]) if args else None
            code = 0 if value is not None else 1
            output.append(f"{value}\n" if value is not None else "")
        elif name in ("true", "false"):
            code = 0 if name == "true" else 1
        elif name == "exit":
            return int(args[0]) if args else code, "".join(output)
        else:
            output.append(f"sh: 1: {name}: not found\n")
            code = 127
    return code, "".join(output)


class MemoryScheduler(Scheduler):
    world = WORLD

    def _image(self, spec):
        return self.world.images.get(spec.image) or Image(body=spec.image)

    def _port(self, spec, image):
        return int(spec.env.get("PORT") or image.exposed_port or DEFAULT_PORT)

    def _of(self, app_uuid, release=None):
        return [p for p in self.world.processes.values()
                if p.app_uuid == app_uuid and release in (None, p.version)]

    def _check_tags(self, spec):
        missing = {k: v for k, v in spec.tags.items() if self.world.node_labels.get(k) != v}
        if missing:
            raise SchedulerError("No nodes matched the provided labels: " +
                                 ", ".join(f"{k}={v}" for k, v in sorted(missing.items())))

    def _start(self, spec, process_type, index, name=None):
        image = self._image(spec)
        env = dict(spec.env, PORT=str(self._port(spec, image)))
        name = name or f"{spec.app}.{spec.release}.{process_type}.{index}"
        existing = self.world.processes.get(name)
        if existing is not None and existing.state == "up" and existing.app_uuid == spec.app_uuid:
            return existing
        if existing is not None:
            existing.stop()
        process = Process(spec.app, spec.app_uuid, name, process_type, spec.version, index, image, env, self.world,
                          limits=limits_for(spec, process_type, self.settings.container_memory))
        self.world.processes[name] = process
        process.start()
        return process

    def _ready(self, spec, process):
        if process.state != "up":
            return False
        probe = spec.probe(process.type, "readinessProbe")
        if probe is None:
            return process.type not in ROUTABLE_TYPES or process.server is not None
        return self._passes(process, probe)

    def _passes(self, process, probe):
        if "httpGet" in probe:
            if process.server is None:
                return False
            try:
                url = f"http://{process.endpoint}{probe['httpGet'].get('path', '/')}"
                with urllib.request.urlopen(url, timeout=probe.get("timeoutSeconds", 1)) as answer:
                    return 200 <= answer.status < 400
            except (OSError, ValueError, urllib.error.URLError):
                return False
        if "tcpSocket" in probe:
            return process.server is not None
        return run_script(" ".join(shlex.quote(w) for w in probe["exec"]["command"]), process.env)[0] == 0

    def _start_all(self, spec, instances):
        """Starts the instances and checks them ready (a simulated process is ready at once or never)."""
        started = [self._start(spec, t, i) for t, i in instances]
        for process in started:
            if process.state == "crashed" or not self._ready(spec, process):
                for other in started:
                    other.stop()
                    self.world.processes.pop(other.name, None)
                tail = "\n".join(text for app, pod, _, text in self.world.log[-20:] if pod == process.name)
                what = ("exited while starting" if process.state == "crashed"
                        else f"was not ready within {self.settings.deploy_timeout:.0f}s")
                raise SchedulerError(f"{process.name} {what}." +
                                     (f" Last log lines:\n{tail}" if tail else " It printed nothing."))
        return started

    def _publish(self, spec):
        serving = [p for p in self._of(spec.app_uuid) if p.state == "up" and p.endpoint]
        endpoints = {}
        for process in serving:
            endpoints.setdefault(process.type, []).append(process.endpoint)
        version = self.routing.publish(spec.app, endpoints)
        if version:
            self.routing.wait_routed(version, 10)

    def deploy(self, spec, structure, retire=True):
        with self.world.lock:
            self._check_tags(spec)
            wanted = [(t, i) for t, count in sorted(structure.items()) for i in range(1, count + 1)]
            started = self._start_all(spec, wanted)
            keep = {p.name for p in started}
            old = [p for p in self._of(spec.app_uuid) if p.name not in keep]
            for process in old:
                process.state = "down"  # out of the routes first
            self._publish(spec)
        if retire:
            self.retire(old)
            return []
        return old

    def retire(self, leftovers):
        if not leftovers:
            return
        time.sleep(self.settings.drain_seconds)
        with self.world.lock:
            for process in leftovers:
                process.stop()
                if self.world.processes.get(process.name) is process:
                    del self.world.processes[process.name]

    def scale(self, spec, structure, retire=True):
        return self.deploy(spec, structure, retire)

    def restart(self, spec, structure, process_type=None, name=None):
        with self.world.lock:
            current = [p for p in self._of(spec.app_uuid, spec.version)
                       if process_type in (None, p.type) and name in (None, p.name)]
            if (process_type or name) and not current:
                raise SchedulerError(f"No pods of {spec.app} match {name or process_type}.")
            for process in current:
                del self.world.processes[process.name]
            try:
                started = self._start_all(spec, [(p.type, p.index) for p in current])
            except SchedulerError:
                for process in current:
                    self.world.processes[process.name] = process
                raise
            self._publish(spec)
        time.sleep(self.settings.drain_seconds)
        for process in current:
            process.stop()
        return [p.pod() for p in started]

    def run(self, spec, command):
        return run_script(command, dict(spec.env, PORT=str(self._port(spec, self._image(spec)))))

    def destroy(self, app_id, app_uuid):
        with self.world.lock:
            for process in self._of(app_uuid):
                process.stop()
                del self.world.processes[process.name]

    def pods(self, app_id):
        with self.world.lock:
            return sorted((p.pod() for p in self.world.processes.values() if p.app == app_id),
                          key=lambda p: (p.type, p.name))

    def observe(self):
        grouped = {}
        with self.world.lock:
            for process in self.world.processes.values():
                grouped.setdefault(process.app, []).append(process.pod())
        return {app: sorted(pods, key=lambda p: (p.type, p.name)) for app, pods in grouped.items()}

    def cpu_usage(self, spec, process_types):
        usage = {process_type: [] for process_type in process_types}
        with self.world.lock:
            for process in self._of(spec.app_uuid, spec.version):
                if process.type in usage and process.state == "up":
                    usage[process.type].append(utilization(process.cores, spec.cpu_request(process.type)))
        return usage

    def failing_liveness(self, spec):
        with self.world.lock:
            return [(p.name, p.type) for p in self._of(spec.app_uuid, spec.version)
                    if p.state == "up" and spec.probe(p.type, "livenessProbe")
                    and not self._passes(p, spec.probe(p.type, "livenessProbe"))]

    def collect_logs(self, sink, stop, resume=None):
        position = 0
        while not stop.is_set():
            with self.world.printed:
                if position >= len(self.world.log):
                    self.world.printed.wait(0.2)
                new, position = self.world.log[position:], len(self.world.log)
            for app, pod, stamp, text in new:
                last = resume(pod) if resume else None
                if last is None or stamp > last:
                    sink(app, pod, stamp, text)
