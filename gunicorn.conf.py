# Gunicorn settings for the controller (and for bench/api.py's baseline, so both are served alike).
import multiprocessing
import os

bind = os.environ.get("PIER_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = int(os.environ.get("PIER_WEB_WORKERS", multiprocessing.cpu_count()))
# Requests that wait for a deploy hold a thread, so each worker keeps several.
threads = int(os.environ.get("PIER_WEB_THREADS", 16))
timeout = 180
graceful_timeout = 30
keepalive = 5
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(L)ss'

# Errors gunicorn answers before the app sees the request come out in the API's JSON shape.
from api.gunicorn_errors import install  # noqa: E402

install()
