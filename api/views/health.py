"""Liveness and readiness probes, outside /v2 and without authentication."""
import redis
from flask import Blueprint, current_app
from sqlalchemy import text

from api.http import when
from core import redis_client
from core.extensions import db
from core.services import backups

probes = Blueprint("probes", __name__)


@probes.route("/healthz", methods=["GET", "HEAD"])
def healthz():
    return "OK", 200, {"Content-Type": "text/plain"}


@probes.route("/readiness", methods=["GET", "HEAD"])
def readiness():
    problems = []
    try:
        db.session.execute(text("SELECT 0"))
    except Exception as exc:  # any database failure means "not ready", and says why
        db.session.rollback()
        problems.append(f"database: {type(exc).__name__}")
    try:
        client = redis_client.client(current_app.config["PIER"].redis_url, socket_timeout=2,
                                     socket_connect_timeout=2)
        client.ping()
    except redis.RedisError as exc:
        problems.append(f"broker: {type(exc).__name__}")
    if problems:
        return "Service Unavailable: " + "; ".join(problems), 503, {"Content-Type": "text/plain"}
    # ready; what operators should know about the database's backups follows (it does not make us unready)
    return "\n".join(["OK", *backup_detail()]) + "\n", 200, {"Content-Type": "text/plain"}


def backup_detail():
    lines = []
    outcome = backups.last_outcome()
    if outcome is None:
        lines.append("backups: none taken yet")
    elif outcome.state == "failed":
        lines.append(f"backups: the last one FAILED at {when(outcome.updated)}: {outcome.error}")
    else:
        kind = outcome.params.get("type", "full")
        lines.append(f"backups: the last {kind} backup succeeded at {when(outcome.updated)}")
    try:
        archived, failed = db.session.execute(text(
            "SELECT last_archived_time, last_failed_time FROM pg_stat_archiver")).one()
    except Exception:  # noqa: BLE001 - a role that may not read it: say nothing rather than fail readiness
        db.session.rollback()
        return lines
    if failed and (archived is None or failed > archived):
        lines.append(f"wal archiving: FAILING since {when(failed)} (see the database's log)")
    elif archived:
        lines.append(f"wal archiving: last segment archived at {when(archived)}")
    db.session.rollback()
    return lines
