# Gunicorn settings for the controller (and for bench/api.py's baseline, so both are served alike).
import gc
import multiprocessing
import os

gc.disable()  # until when_ready: no freed holes in the pages the workers will share (as the gc module advises)

bind = os.environ.get("PIER_BIND", "0.0.0.0:8000")
# gthread, with new connections going to the workers that hold fewer (api/balanced_worker.py)
worker_class = "api.balanced_worker.BalancedThreadWorker"
workers = int(os.environ.get("PIER_WEB_WORKERS", multiprocessing.cpu_count()))
# Requests that wait for a deploy hold a thread, so each worker keeps several; at most PIER_WEB_ACTIVE of them run
# at once (api/gate.py).
threads = int(os.environ.get("PIER_WEB_THREADS", 16))
timeout = 180
graceful_timeout = 30
keepalive = 5
# The app is imported once, in the master, and the workers are forked from it: they share its code and data
# pages (the controller's PSS drops from ~177 to ~107 MiB at 2 workers). Nothing connects at import; the database
# pool is dropped after the fork all the same (post_fork), and redis-py and prometheus_client notice a new pid.
preload_app = True
# gunicorn's control socket (one path per user, $HOME/.gunicorn/gunicorn.ctl) is unused: every gunicorn of the
# machine (the platform's, a bench's, a test's) would take it from the one before.
control_socket_disable = True
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(L)ss'

from api import balanced_worker  # noqa: E402 - the table of connections its workers share is made here

# Errors gunicorn answers before the app sees the request come out in the API's JSON shape.
from api.gunicorn_errors import install  # noqa: E402

install()

# Metrics: each worker process counts its requests into files of a folder of this master's (prometheus_client's
# multiprocess mode), and GET /metrics answers their sum, whichever worker takes it (api/metrics.py). The
# variable must be set before a worker imports prometheus_client; the folder of an earlier master is not ours.
from core.metrics import multiprocess_folder  # noqa: E402 - it imports no prometheus_client

if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = multiprocess_folder(os.environ.get("PIER_METRICS_FOLDER", "var/metrics"),
                                                                 "web")


def pre_fork(server, worker):
    balanced_worker.take_slot(worker)


def child_exit(server, worker):
    balanced_worker.free_slot(worker)
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)


def when_ready(server):
    """Before the first worker is forked (the app is loaded: preload_app): what the workers share."""
    app = server.app.wsgi()
    if "sqlalchemy" in getattr(app, "extensions", {}):  # bench/api.py's bare Flask baseline has none
        from core.pool import before_fork
        problem = before_fork(app)
        if problem:
            server.log.warning("%s; each worker will connect on its own", problem)
    gc.freeze()  # the collector leaves what is there now alone, so the pages the workers share stay shared
    gc.enable()


def post_fork(server, worker):
    """A forked worker never uses the master's database connections (there should be none: belt and braces)."""
    from core.extensions import db
    app = server.app.wsgi()
    if "sqlalchemy" not in getattr(app, "extensions", {}):  # bench/api.py's bare Flask baseline has none
        return
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
