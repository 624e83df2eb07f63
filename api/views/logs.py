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


def _line(event):
    return f"{event.created.strftime(STAMP)} pier[controller]: {event.message}\n"


def _container_lines(app, lines):
    """The containers' last lines as (timestamp, text); none when no scheduler is configured."""
    try:
        entries = get_scheduler(current_app.config["PIER"]).logs(app.id, lines)
    except SchedulerUnavailable:
        return []
    except SchedulerError as exc:
        return [(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), f"pier[scheduler]: {exc}\n")]
    return [(stamp, f"{stamp} {app.id}[{name}]: {text}\n") for stamp, name, text in entries]


def _lines_wanted():
    try:
        lines = int(request.args.get("log_lines", current_app.config["PIER"].log_lines))
    except ValueError:
        raise ValidationError({"log_lines": ["A valid integer is required."]}) from None
    if not 1 <= lines <= MAX_LINES:
        raise ValidationError({"log_lines": [f"Ensure this value is between 1 and {MAX_LINES}."]})
    return lines


def _follow(app_uuid, history):
    last_id = history[-1].id if history else 0
    yield "".join(_line(e) for e in history)
    while True:
        db.session.commit()  # end the read transaction: never hold a snapshot (or locks) while idle
        time.sleep(FOLLOW_POLL_SECONDS)
        new = db.session.execute(db.select(AppEvent).where(AppEvent.app_uuid == app_uuid, AppEvent.id > last_id)
                                 .order_by(AppEvent.id)).scalars().all()
        if new:
            last_id = new[-1].id
            yield "".join(_line(e) for e in new)


@v2.route("/apps/<app_id>/logs", methods=["GET"])
def app_logs(app_id):
    app = app_for_request(app_id)
    lines = _lines_wanted()
    follow = request.args.get("follow", "").lower() in ("true", "1", "yes")
    rows = db.session.execute(db.select(AppEvent).where(AppEvent.app_uuid == app.uuid)
                              .order_by(AppEvent.id.desc()).limit(lines)).scalars().all()
    history = list(reversed(rows))
    if follow:
        return Response(stream_with_context(_follow(app.uuid, history)), mimetype="text/plain")
    merged = sorted([(e.created.strftime(STAMP), _line(e)) for e in history] + _container_lines(app, lines))
    if not merged:
        return "", 204
    return Response("".join(text for _, text in merged[-lines:]), mimetype="text/plain")
