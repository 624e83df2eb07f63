"""Pooled database connections are checked for life at checkout without a round trip in the common case.

SQLAlchemy's `pool_pre_ping` sends `SELECT 1` at every checkout: on the controller's hot reads it was a fifth
of the time (bench/api.py, py-spy). An idle PostgreSQL connection never speaks on its own: when its socket is
readable at checkout, the server has closed it (a restart, a crash, `pg_terminate_backend`) and said so. That
check costs a `poll` of the socket. A connection idle for longer than IDLE_PING_SECONDS still gets the
`SELECT 1`, for the failures nothing announces (a firewall that dropped the connection silently). A dead
connection is replaced and every connection older than it is dropped, as `pool_pre_ping` does.
"""
import os
import select
import time

from sqlalchemy import event
from sqlalchemy.exc import InvalidatePoolError

IDLE_PING_SECONDS = 30.0
_CHECKED_IN = "pier_checked_in"


def install(engine):
    def checked_out(dbapi_connection, record, proxy):
        if server_closed(dbapi_connection):
            raise InvalidatePoolError("the database server closed the connection")
        if time.monotonic() - record.info.get(_CHECKED_IN, 0.0) > IDLE_PING_SECONDS:
            try:
                engine.dialect.do_ping(dbapi_connection)
            except Exception as exc:  # noqa: BLE001 - any failure means the connection is unusable
                raise InvalidatePoolError(f"the database connection failed its ping ({type(exc).__name__})") from exc

    event.listen(engine, "connect", _stamp)
    event.listen(engine, "checkin", _stamp)
    event.listen(engine, "checkout", checked_out)


def _stamp(dbapi_connection, record):
    """When the connection was made or last given back (a checkin of an invalidated one has no record)."""
    if record is not None:
        record.info[_CHECKED_IN] = time.monotonic()


def server_closed(dbapi_connection):
    """True when the server sent something on an idle connection (its goodbye) or the connection is closed."""
    if dbapi_connection.closed:
        return True
    poller = select.poll()
    try:
        poller.register(dbapi_connection.fileno(), select.POLLIN)
    except (OSError, ValueError):
        return True
    return bool(poller.poll(0))


def before_fork(flask_app, warm_ups=()):
    """In a parent about to fork processes that use `flask_app`'s database (the workers' fleet, gunicorn's
    master): configures SQLAlchemy's mappers and makes the engines' first connection, on which the dialect learns
    the server's version and settings, then closes it. Each child would otherwise do both on its first query,
    writing about 10 MiB of pages of its own (bench/footprint.py); done here, they share them. `warm_ups` are
    functions of the app run on that connection, in the app's context: a child's own reads, done once here
    (router/warm_up.py). No connection crosses the fork. Returns None, or what went wrong (no database yet:
    each child then connects on its own; a warm-up that failed: the child does that work itself)."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import configure_mappers

    from core.extensions import db

    configure_mappers()
    timeout = "PGCONNECT_TIMEOUT" not in os.environ
    if timeout:
        os.environ["PGCONNECT_TIMEOUT"] = "5"  # libpq's: a database that does not answer does not hold the parent
    problems = []
    with flask_app.app_context():
        try:
            db.session.execute(text("SELECT 1"))
            for warm_up in warm_ups:
                try:
                    warm_up(flask_app)
                except Exception as error:  # noqa: BLE001 - only a head start is lost; said to the caller
                    db.session.rollback()
                    problems.append(f"{warm_up.__module__}.{warm_up.__name__} failed before forking "
                                    f"({type(error).__name__}: {error})")
        except SQLAlchemyError as error:
            problems.append(f"no database connection before forking ({type(error).__name__})")
        finally:
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
            if timeout:
                del os.environ["PGCONNECT_TIMEOUT"]
    return "; ".join(problems) or None
