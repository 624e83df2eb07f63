"""Public-key authentication: the key's fingerprint is resolved to a Pier user through the controller.

A correctly signed key that no user has added is still let in, so that the git client can be told to run
`pier keys:add` instead of a bare "Permission denied (publickey)"; such a session can run nothing.
"""
import base64
import hashlib

from twisted.conch import avatar, error
from twisted.conch.ssh import keys, session
from twisted.cred import checkers, credentials, portal
from twisted.cred.error import UnauthorizedLogin
from twisted.internet import defer, threads
from zope.interface import implementer

from sshd.controller import ControllerError


def fingerprint_of(blob):
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


class Identity:
    """Who a verified key belongs to: `username` is None for a key no user has added."""

    def __init__(self, fingerprint, username=None, apps=None, problem=None):
        self.fingerprint, self.username, self.apps = fingerprint, username, dict(apps or {})  # app id -> uuid
        self.problem = problem  # why the key could not be looked up, told to the client at its first command


@implementer(checkers.ICredentialsChecker)
class KeyChecker:
    credentialInterfaces = (credentials.ISSHPrivateKey,)

    def __init__(self, controller):
        self.controller = controller

    def requestAvatarId(self, creds):
        try:
            key = keys.Key.fromString(creds.blob)
        except keys.BadKeyError:
            return defer.fail(UnauthorizedLogin("unsupported key"))
        if not creds.signature:
            return defer.fail(error.ValidPublicKey())  # the client may now sign with this key
        if not key.verify(creds.signature, creds.sigData):
            return defer.fail(UnauthorizedLogin("bad signature"))
        found = fingerprint_of(creds.blob)
        return threads.deferToThread(self._lookup, found)

    def _lookup(self, found):
        try:
            owner = self.controller.user_for_key(found)
        except ControllerError as exc:
            return Identity(found, problem=str(exc))
        if owner is None:
            return Identity(found)
        return Identity(found, *owner)


class WideSession(session.SSHSession):
    """A session channel with a wider window than conch's 128 KiB, so a push is not held up by window
    adjustments on every few packets."""

    def __init__(self, *args, **kwargs):
        kwargs["localWindow"] = kwargs.get("localWindow") or 4 * 1024 * 1024
        super().__init__(*args, **kwargs)


class PushUser(avatar.ConchUser):
    def __init__(self, identity):
        super().__init__()
        self.identity = identity
        self.channelLookup[b"session"] = WideSession


@implementer(portal.IRealm)
class Realm:
    def requestAvatar(self, identity, mind, *interfaces):
        user = PushUser(identity)
        return interfaces[0], user, lambda: None
