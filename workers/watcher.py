"""The watcher process: collects every app process's output into the log store, so that `pier logs` shows
what happened after the process is gone; and asks for a reconcile of an app as soon as one of its processes
dies, starts or goes, so that a dead container is replaced in seconds.

    python -m workers.watcher
"""
import logging
import signal
import sys
import threading

from prometheus_client import Counter

from core import jobs
from core.logs import LogStore
from core.metrics import serve
from core.settings import Settings
from workers.scheduler import get_scheduler

log = logging.getLogger("pier.watcher")
LINES = Counter("pier_watcher_log_lines", "Lines of the apps' output collected into the log store")
RECONCILES = Counter("pier_watcher_reconcile_requests", "Reconciles asked for because an app's processes changed")


def collect(settings, stop):
    """Runs the scheduler's log collection into the log store until `stop` is set."""
    store = LogStore(settings.redis_url)

    def keep(app_id, source, stamp, text):
        store.append(app_id, source, stamp, text)
        LINES.inc()

    get_scheduler(settings).collect_logs(keep, stop, resume=store.last_stamp)


def watch(settings, stop):
    """Sends `reconcile.app` for each app whose processes changed, until `stop` is set."""
    def changed(app_id):
        try:
            jobs.send(settings.redis_url, "reconcile.app", args=[app_id])
            RECONCILES.inc()
        except Exception as exc:  # noqa: BLE001 - the broker may be restarting; the periodic round repairs too
            log.warning("could not ask for a reconcile of %s: %s", app_id, exc)

    get_scheduler(settings).watch(changed, stop)


def run(settings, stop):
    threads = [threading.Thread(target=target, args=(settings, stop), name=target.__name__)
               for target in (collect, watch)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def main():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    log.info("watching the %s scheduler: logs and process changes", settings.scheduler)
    serve(settings, "watcher")
    run(settings, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
