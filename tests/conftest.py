"""Shared fixtures: the real PostgreSQL (pier_test database) and Redis (db 15), and a real Celery worker."""
import os
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

from api import create_app
from core.app import add_migrations
from core.extensions import db
from core.settings import Settings
from tests.factories import Caller

TEST_REDIS_URL = os.environ.get("PIER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def settings_for_tests(**overrides):
    values = dict(
        secret_key="test-secret-key-" + "x" * 32,
        builder_key="test-builder-key-" + "y" * 32,
        database_url=os.environ["PIER_TEST_DATABASE_URL"],
        redis_url=TEST_REDIS_URL,
        registration_mode="admin_only",
        scheduler="none",
        sync_timeout=30.0,
        registry_password=os.environ.get("PIER_REGISTRY_PASSWORD", ""),  # the machine's registry asks for it
        registry_config="",  # no test sweeps the machine's registry (tests/integration/test_gc.py runs its own)
        metrics_port_base=0,  # the in-process worker serves no metrics (tests/e2e/test_metrics.py scrapes them)
    )
    values.update(overrides)
    return Settings(**values)


def _reset_schema(url):
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def app():
    settings = settings_for_tests()
    _reset_schema(settings.database_url)
    flask_app = add_migrations(create_app(settings))
    with flask_app.app_context():
        from flask_migrate import upgrade
        upgrade()
    return flask_app


# Children before parents: each table is emptied before the tables it references.
TABLES = ("app_events", "operations", "collaborators", "domains", "certificates", "releases", "builds",
          "configs", "app_settings", "tls", "keys", "apps", "tokens", "users")


@pytest.fixture(autouse=True)
def _clean_database(request):
    yield
    if "app" not in request.fixturenames:
        return
    flask_app = request.getfixturevalue("app")
    with flask_app.app_context():
        db.session.remove()
        if WORKER_STARTED:
            _wait_for_jobs()
        _empty_tables()
    _clean_redis(flask_app.config["PIER"].redis_url)


def _empty_tables(attempts=10):
    """Every row goes and the sequences start again at 1. DELETE, not TRUNCATE: on tables of a few rows it
    takes a tenth of the time (TRUNCATE makes new files for every table and its indexes: some 70 ms after
    each of the suite's thousand tests). A job the worker picks up meanwhile may lock rows in the other
    order (PostgreSQL then breaks the deadlock by failing one side) or add a row that references one being
    deleted (a foreign key violation): either way the clean-up is tried again."""
    for attempt in range(attempts):
        try:
            db.session.execute(text("SET LOCAL lock_timeout = '10s'"))
            for table in TABLES:
                db.session.execute(text(f"DELETE FROM {table}"))
            for sequence in db.session.execute(text(
                    "SELECT relname FROM pg_class WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace")
            ).scalars().all():
                db.session.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))
            db.session.commit()
            return
        except (OperationalError, IntegrityError):
            db.session.rollback()
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)


WORKER_STARTED = []  # set once the session's worker runs: it may still be working on the last test's jobs


def _wait_for_jobs(seconds=60):
    """The jobs the session's worker runs for a test (sent with `Prefer: respond-async`, or after-work of a
    deploy) finish before their rows go. Operations a test marked running by hand have no job to wait for."""
    from workers.runners.operations import IN_PROCESS
    deadline = time.monotonic() + seconds
    while IN_PROCESS and time.monotonic() < deadline:
        time.sleep(0.1)


def _clean_redis(url):
    """What the workers derived for apps of the last test (pods, endpoints, logs) goes with their rows, and so do
    the rate limits' counts (each test starts with none)."""
    import redis
    client = redis.Redis.from_url(url)
    for pattern in ("pier:pods", "pier:endpoints*", "pier:logs*", "pier:liveness:*", "pier:limits*",
                    "pier:autoscale:*"):
        keys = list(client.scan_iter(pattern))
        if keys:
            client.delete(*keys)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def caller(app, client):
    """caller("alice", admin=False) -> a Caller that sends requests with alice's token."""
    def make(username, admin=False):
        return Caller.create(app, client, username, admin)
    return make


@pytest.fixture
def admin(caller):
    return caller("admin", admin=True)


@pytest.fixture
def alice(caller, admin):
    return caller("alice")


@pytest.fixture
def bob(caller, admin):
    return caller("bob")


@pytest.fixture(scope="session")
def worker(app):
    """A real Celery worker consuming from the real Redis, in a thread of this process."""
    import redis
    from celery.contrib.testing.worker import start_worker

    from core.jobs import QUEUES
    from workers.celery_app import make_celery
    celery = app.extensions.get("celery") or make_celery(app)
    celery.conf.update(broker_url=TEST_REDIS_URL)
    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    with start_worker(celery, pool="threads", concurrency=4, perform_ping_check=False, queues=list(QUEUES),
                      shutdown_timeout=30, loglevel="WARNING"):
        WORKER_STARTED.append(True)
        yield celery
