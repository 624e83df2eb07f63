"""Pooled database connections the server closed are replaced at checkout (core.pool), without the round trip
SQLAlchemy's pre-ping costs: a request after a database restart never fails on a dead pooled connection."""
import os
import re
import time

from sqlalchemy import create_engine, text

from core.app import create_core_app
from core.extensions import db
from core import pool
from tests.conftest import settings_for_tests


def _backend_pids(flask_app, count):
    """Opens `count` pooled connections at once and returns their server pids (the pool keeps them)."""
    with flask_app.app_context():
        connections = [db.engine.connect() for _ in range(count)]
        pids = [c.execute(text("SELECT pg_backend_pid()")).scalar() for c in connections]
        for connection in connections:
            connection.close()
    return pids


def _terminate(url, pids):
    admin = create_engine(url)
    with admin.begin() as conn:
        for pid in pids:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            alive = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                                 {"pids": pids}).scalar()
            if not alive:
                break
            time.sleep(0.05)
    admin.dispose()


def test_connections_the_server_closed_are_replaced_at_checkout(app):
    settings = settings_for_tests()
    flask_app = create_core_app(settings)
    old = _backend_pids(flask_app, 3)
    _terminate(settings.database_url, old)

    with flask_app.app_context():
        # every request after the restart: none sees the dead connections
        for _ in range(5):
            pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
            db.session.remove()
            assert pid not in old
        db.engine.dispose()


def test_a_live_idle_connection_is_kept_and_an_old_one_is_pinged(app, monkeypatch):
    settings = settings_for_tests()
    flask_app = create_core_app(settings)
    [first] = _backend_pids(flask_app, 1)
    with flask_app.app_context():
        assert db.session.execute(text("SELECT pg_backend_pid()")).scalar() == first, "a live connection was dropped"
        db.session.remove()
        connection = db.engine.raw_connection()
        assert not pool.server_closed(connection.dbapi_connection)
        connection.close()
        # past the idle limit a connection is pinged, and a live one passes and is kept
        monkeypatch.setattr(pool, "IDLE_PING_SECONDS", -1.0)
        assert db.session.execute(text("SELECT pg_backend_pid()")).scalar() == first
        db.session.remove()
        db.engine.dispose()


def test_before_fork_leaves_the_mappers_and_the_dialect_ready_and_no_connection_open(app):
    flask_app = create_core_app(settings_for_tests())
    assert pool.before_fork(flask_app) is None
    with flask_app.app_context():
        engine = db.engine
        assert engine.dialect.server_version_info is not None  # learnt on the first connection
        assert engine.pool.checkedin() == 0 and engine.pool.checkedout() == 0  # none crosses the fork
        db.session.execute(text("SELECT 1"))  # a child's first query still connects
        db.session.remove()
        engine.dispose()


def test_before_fork_without_a_database_says_so_and_leaves_the_environment_as_it_was(app, monkeypatch):
    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    flask_app = create_core_app(settings_for_tests(database_url="postgresql+psycopg://pier:x@127.0.0.1:1/none"))
    problem = pool.before_fork(flask_app)
    assert problem.startswith("no database connection before forking (OperationalError)")
    assert "PGCONNECT_TIMEOUT" not in os.environ


def test_before_fork_runs_the_warm_ups_on_its_connection_and_says_which_failed(app):
    flask_app = create_core_app(settings_for_tests())
    seen = []

    def reads(given):
        seen.append((given is flask_app, db.session.execute(text("SELECT 2")).scalar()))

    def breaks(given):
        db.session.execute(text("SELECT * FROM no_such_table"))
    problem = pool.before_fork(flask_app, [breaks, reads])
    assert seen == [(True, 2)]  # the one after a failed one runs too, on a usable session
    assert re.fullmatch(r"\S+\.breaks failed before forking \(ProgrammingError: .*no_such_table.*", problem, re.S)
    with flask_app.app_context():
        assert db.engine.pool.checkedin() == 0 and db.engine.pool.checkedout() == 0
        db.engine.dispose()
