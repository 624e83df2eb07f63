"""Collaborators on an app, and the platform's administrators."""
from flask import g, jsonify

from api.auth import app_for_request, find_app, require_admin, user_by_name
from api.errors import Forbidden, not_found
from api.extensions import db
from api.http import created, load, no_content, paginate
from api.models import Collaborator, User
from api.schemas.user import UsernameSchema
from api.services import events
from api.views import v2


@v2.route("/apps/<app_id>/perms", methods=["GET"])
def list_perms(app_id):
    app = app_for_request(app_id)
    return jsonify({"users": sorted(u.username for u in app.collaborators if u.id != app.owner_id)})


@v2.route("/apps/<app_id>/perms", methods=["POST"])
def grant_perm(app_id):
    app = app_for_request(app_id)
    if not (g.user.is_superuser or app.owner_id == g.user.id):
        raise Forbidden("Only the owner or an administrator can share an app.")
    user = user_by_name(load(UsernameSchema())["username"])
    if db.session.get(Collaborator, (app.uuid, user.id)) is None:
        db.session.add(Collaborator(app_uuid=app.uuid, user_id=user.id))
        events.record(app, f"User {user.username} was granted access to {app.id}")
        db.session.commit()
    return "", 201


@v2.route("/apps/<app_id>/perms/<username>", methods=["DELETE"])
def revoke_perm(app_id, username):
    app = find_app(app_id)
    user = user_by_name(username)
    if not (g.user.is_superuser or app.owner_id == g.user.id or g.user.id == user.id):
        raise Forbidden("You do not have permission to perform this action.")
    grant = db.session.get(Collaborator, (app.uuid, user.id))
    if grant is None:
        raise Forbidden(f"{username} is not a collaborator on {app.id}.")
    db.session.delete(grant)
    events.record(app, f"User {username} was revoked access to {app.id}")
    db.session.commit()
    return no_content()


def _dump_admin(user):
    return {"username": user.username, "is_superuser": user.is_superuser}


@v2.route("/admin/perms", methods=["GET"])
def list_admins():
    require_admin()
    return paginate(db.select(User).where(User.is_superuser.is_(True)).order_by(User.username), _dump_admin)


@v2.route("/admin/perms", methods=["POST"])
def grant_admin():
    require_admin()
    user = user_by_name(load(UsernameSchema())["username"])
    user.is_superuser = user.is_staff = True
    db.session.commit()
    return created(_dump_admin(user))


@v2.route("/admin/perms/<username>", methods=["DELETE"])
def revoke_admin(username):
    require_admin()
    user = user_by_name(username)
    if not user.is_superuser:
        raise not_found("User")
    user.is_superuser = user.is_staff = False
    db.session.commit()
    return no_content()
