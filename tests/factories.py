"""Tiny factories: users with tokens, apps, and a client wrapper that sends a user's token."""
import json

from core.extensions import db
from core.models import Token, User
from core.passwords import hash_password

PASSWORD = "correct horse battery staple"
_PASSWORD_HASH = None


def password_hash():
    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        _PASSWORD_HASH = hash_password(PASSWORD)
    return _PASSWORD_HASH


class Caller:
    """Sends requests as one user (or anonymously with token=None)."""

    def __init__(self, client, username, token, user_id=None):
        self.client, self.username, self.token, self.id = client, username, token, user_id

    @classmethod
    def create(cls, app, client, username, admin=False):
        with app.app_context():
            user = User(username=username, email=f"{username}@example.com", password_hash=password_hash(),
                        is_superuser=admin, is_staff=admin)
            db.session.add(user)
            db.session.flush()
            token = Token.issue(user)
            db.session.commit()
            return cls(client, username, token, user.id)

    def headers(self, extra=None):
        headers = {"Authorization": f"token {self.token}"} if self.token else {}
        headers.update(extra or {})
        return headers

    def request(self, method, path, body=None, headers=None, raw=None):
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        return self.client.open(path, method=method, data=data, headers=self.headers(headers),
                                content_type="application/json")

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def delete(self, path, body=None, **kw):
        return self.request("DELETE", path, body, **kw)

    def create_app(self, app_id):
        response = self.post("/v2/apps", {"id": app_id})
        assert response.status_code == 201, response.get_json()
        return response.get_json()
