"""SSH keys: a user's public keys, whose fingerprints map a `git push` to its user."""
from core import sshkeys
from core.errors import ValidationError
from core.extensions import db
from core.models import Key


def add(user, key_id, public_text):
    try:
        public, fingerprint, md5 = sshkeys.parse(public_text)
    except ValueError as exc:
        raise ValidationError({"public": [str(exc)]}) from None
    if db.session.execute(db.select(Key.uuid).where(Key.fingerprint == fingerprint)).first():
        raise ValidationError({"public": ["Key with this public already exists."]})
    if db.session.execute(db.select(Key.uuid).where(Key.owner_id == user.id, Key.id == key_id)).first():
        raise ValidationError({"id": [f"You already have a key named {key_id}."]})
    key = Key(id=key_id, owner=user, public=public, fingerprint=fingerprint, fingerprint_md5=md5)
    db.session.add(key)
    db.session.commit()
    return key


def remove(key):
    db.session.delete(key)
    db.session.commit()
