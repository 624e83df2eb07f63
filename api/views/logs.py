"""App logs: platform events (and, with a scheduler, container output), optionally followed."""
import time

from flask import Response, current_app, request, stream_with_context

from api.auth import app_for_request
from api.errors import ValidationError
from api.extensions import db
from api.models import AppEvent
from api.views import v2
from workers.scheduler import SchedulerError, SchedulerUnavailable, get_scheduler

MAX_LINES = 10000
STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"
FOLLOW_POLL_SECONDS = 0.5


def _event_lines(app_uuid, lines=None, after_id=0):
    """Platform events as (timestamp, text), oldest first, and the id of the newest one."""
    select = db.select(AppEvent).where(AppEvent.app_uuid == app_uuid, AppEvent.id > after_id)
    if lines is None:
        rows = db.session.execute(select.order_by(AppEvent.id)).scalars().all()
    else:
        rows = list(reversed(db.session.execute(select.order_by(AppEvent.id.desc()).limit(lines)).scalars().all()))
    entries = [(e.created.strftime(STAMP), f"{e.created.strftime(STAMP)} pier[controller]: {e.message}\n")
               for e in rows]
    return entries, (rows[-1].id if rows else after_id)


def _container_lines(app_id, lines=None, since=None):
    """The containers' lines as (timestamp, text); none when no scheduler is configured."""
    try:
        entries = get_scheduler(current_app.config["PIER"]).logs(app_id, lines, since=since)
    except SchedulerUnavailable:
        return []
    except SchedulerError as exc:
        return [(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), f"pier[scheduler]: {exc}\n")]
    return [(stamp, f"{stamp} {app_id}[{name}]: {text}\n") for stamp, name, text in entries]


def _lines_wanted():
    try:
        lines = int(request.args.get("log_lines", current_app.config["PIER"].log_lines))
    except ValueError:
        raise ValidationError({"log_lines": ["A valid integer is required."]}) from None
    if not 1 <= lines <= MAX_LINES:
        raise ValidationError({"log_lines": [f"Ensure this value is between 1 and {MAX_LINES}."]})
    return lines


def _follow(app_id, app_uuid, history, last_id):
    last_stamp = history[-1][0] if history else time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    yield "".join(text for _, text in history)
    while True:
        db.session.commit()  # end the read transaction: never hold a snapshot (or locks) while idle
        time.sleep(FOLLOW_POLL_SECONDS)
        events, last_id = _event_lines(app_uuid, after_id=last_id)
        new = sorted(events + _container_lines(app_id, since=last_stamp))
        if new:
            last_stamp = max(last_stamp, new[-1][0])
            yield "".join(text for _, text in new)


@v2.route("/apps/<app_id>/logs", methods=["GET"])
def app_logs(app_id):
    app = app_for_request(app_id)
    lines = _lines_wanted()
    events, last_id = _event_lines(app.uuid, lines)
    history = sorted(events + _container_lines(app.id, lines))[-lines:]
    if request.args.get("follow", "").lower() in ("true", "1", "yes"):
        return Response(stream_with_context(_follow(app.id, app.uuid, history, last_id)), mimetype="text/plain")
    if not history:
        return "", 204
    return Response("".join(text for _, text in history), mimetype="text/plain")
