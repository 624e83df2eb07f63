"""Collaborators on an app, and the platform's administrators."""
from flask import g, jsonify

from api.auth import NO_PERMISSION, app_for_request, require_admin
from api.blueprint import v2
from api.http import created, load, no_content, paginate
from api.schemas.user import UsernameSchema
from core.access import find_app, is_owner_or_admin, user_by_name
from core.errors import Forbidden, not_found
from core.extensions import db
from core.models import User
from core.services import perms, users


@v2.route("/apps/<app_id>/perms", methods=["GET"])
def list_perms(app_id):
    app = app_for_request(app_id)
    return jsonify({"users": sorted(u.username for u in app.collaborators if u.id != app.owner_id)})


@v2.route("/apps/<app_id>/perms", methods=["POST"])
def grant_perm(app_id):
    app = app_for_request(app_id)
    if not is_owner_or_admin(app, g.caller):
        raise Forbidden("Only the owner or an administrator can share an app.")
    perms.grant(app, user_by_name(load(UsernameSchema())["username"]))
    return "", 201


@v2.route("/apps/<app_id>/perms/<username>", methods=["DELETE"])
def revoke_perm(app_id, username):
    app = find_app(app_id)
    user = user_by_name(username)
    if not (g.caller.is_superuser or app.owner_id == g.caller.id or g.caller.id == user.id):
        raise Forbidden(NO_PERMISSION)
    perms.revoke(app, user)
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
    users.set_admin(user, True)
    return created(_dump_admin(user))


@v2.route("/admin/perms/<username>", methods=["DELETE"])
def revoke_admin(username):
    require_admin()
    user = user_by_name(username)
    if not user.is_superuser:
        raise not_found("User")
    users.set_admin(user, False)
    return no_content()
