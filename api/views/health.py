"""Liveness and readiness probes, outside /v2 and without authentication."""
import redis
from flask import Blueprint, current_app
from sqlalchemy import text

from core.extensions import db

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
        client = redis.Redis.from_url(current_app.config["PIER"].redis_url, socket_timeout=2,
                                      socket_connect_timeout=2)
        client.ping()
    except redis.RedisError as exc:
        problems.append(f"broker: {type(exc).__name__}")
    if problems:
        return "Service Unavailable: " + "; ".join(problems), 503, {"Content-Type": "text/plain"}
    return "OK", 200, {"Content-Type": "text/plain"}
