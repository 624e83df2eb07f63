"""Public-key authentication: a key gets in only when the controller knows it (`hooks/key/{fingerprint}`),
and is checked before the client is asked to sign with it.

An unknown key fails, as in OpenSSH's sshd, so the client offers its next one (sshd.userauth tells the user
how to add a key). When the controller cannot be reached, a correctly signed key is still let in, so that
its first command can say so instead of a bare "Permission denied (publickey)"; such a session can run
nothing.
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
    """Who a key belongs to: `username` is None for a key no user has added, or when `problem` says why the
    controller could not tell."""

    def __init__(self, fingerprint, username=None, apps=None, problem=None):
        self.fingerprint, self.username, self.apps = fingerprint, username, dict(apps or {})  # app id -> uuid
        self.problem = problem  # told to the client at its first command


class UnknownKey(UnauthorizedLogin):
    def __init__(self, fingerprint):
        super().__init__(f"key {fingerprint} is not known to Pier")
        self.fingerprint = fingerprint


# The most lookups one connection may cause. A client that waits for each answer (OpenSSH's does) meets the
# failure limits sooner; one that sends its requests all at once, which conch would check side by side,
# must not turn one connection into thousands of controller calls.
LOOKUPS_PER_CONNECTION = 20


@implementer(checkers.ICredentialsChecker)
class KeyChecker:
    """One per connection (see sshd.userauth): `owners` keeps the controller's answers for its keys."""

    credentialInterfaces = (credentials.ISSHPrivateKey,)

    def __init__(self, controller):
        self.controller = controller
        self.owners = {}  # fingerprint -> Identity, for the keys the controller answered about
        self.lookups = 0

    def requestAvatarId(self, creds):
        try:
            key = keys.Key.fromString(creds.blob)
        except keys.BadKeyError:
            return defer.fail(UnauthorizedLogin("unsupported key"))
        if creds.signature and not key.verify(creds.signature, creds.sigData):
            return defer.fail(UnauthorizedLogin("bad signature"))
        found = fingerprint_of(creds.blob)
        if found in self.owners:
            owner = defer.succeed(self.owners[found])
        elif self.lookups >= LOOKUPS_PER_CONNECTION:
            return defer.fail(UnauthorizedLogin("too many keys offered on one connection"))
        else:
            self.lookups += 1
            owner = threads.deferToThread(self._lookup, found)
        return owner.addCallback(self._decide, signed=bool(creds.signature))

    def _lookup(self, found):
        try:
            owner = self.controller.user_for_key(found)
        except ControllerError as exc:
            return Identity(found, problem=str(exc))
        if owner is None:
            return Identity(found)
        return Identity(found, *owner)

    def _decide(self, identity, signed):
        if identity.problem is None:  # an unreachable controller is asked again at the signed request
            self.owners[identity.fingerprint] = identity
        if identity.username is None and identity.problem is None:
            raise UnknownKey(identity.fingerprint)  # before any signature: OpenSSH moves on to its next key
        if not signed:
            raise error.ValidPublicKey()  # the client may now sign with this key
        return identity


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
