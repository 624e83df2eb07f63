"""Who may use what: the platform's authorization rules, shared by the API and the builder's hooks."""
from core.errors import not_found
from core.extensions import db
from core.models import App, Collaborator, User


def is_collaborator(app, user):
    return db.session.get(Collaborator, (app.uuid, user.id)) is not None


def can_use_app(app, user, method="GET"):
    """Deis `is_app_user`: admins and owners do anything; collaborators all but DELETE."""
    return may_use(user, app.owner_id, lambda: is_collaborator(app, user), method)


def may_use(user, owner_id, collaborates, method="GET"):
    """can_use_app's rule on an app's facts, for a read that fetched them itself: `collaborates()` is asked
    only when the answer depends on it."""
    if user.is_superuser or owner_id == user.id:
        return True
    return method != "DELETE" and collaborates()


def is_owner_or_admin(app, user):
    return user.is_superuser or app.owner_id == user.id


def find_app(app_id):
    app = db.session.execute(db.select(App).where(App.id == app_id)).scalar_one_or_none()
    if app is None:
        raise not_found("App")
    return app


def user_by_name(username):
    user = db.session.execute(db.select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise not_found("User")
    return user
