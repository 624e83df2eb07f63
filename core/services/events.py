from core.extensions import db
from core.models import AppEvent


def record(app, message):
    """Adds a platform event line to the app's log; the caller commits."""
    db.session.add(AppEvent(app_uuid=app.uuid, message=message))
