"""Collaborators: users holding `use_app` on an app (everything but DELETE)."""
from core.errors import Forbidden
from core.extensions import db
from core.models import Collaborator
from core.services import events


def grant(app, user):
    if db.session.get(Collaborator, (app.uuid, user.id)) is None:
        db.session.add(Collaborator(app_uuid=app.uuid, user_id=user.id))
        events.record(app, f"User {user.username} was granted access to {app.id}")
        db.session.commit()


def revoke(app, user):
    grant = db.session.get(Collaborator, (app.uuid, user.id))
    if grant is None:
        raise Forbidden(f"{user.username} is not a collaborator on {app.id}.")
    db.session.delete(grant)
    events.record(app, f"User {user.username} was revoked access to {app.id}")
    db.session.commit()
