"""The builder's ssh-userauth service: public keys only, each key the client offers checked in turn, as
OpenSSH's sshd does, so a user whose agent holds several keys gets in with the one Pier knows."""
from twisted.conch import error
from twisted.conch.ssh import transport, userauth
from twisted.conch.ssh.common import NS
from twisted.cred import portal
from twisted.python import failure, log

from sshd.auth import KeyChecker, Realm, UnknownKey


def unknown_key_text(fingerprint):
    return (f"Your SSH key ({fingerprint}) is not known to Pier (ssh tries your next key, if any). If none is "
            "known, add yours with `pier keys:add ~/.ssh/id_ed25519.pub`, then push again.\n")


class KeyAuth(userauth.SSHUserAuthServer):
    supportedAuthentications = [b"publickey"]

    def serviceStarted(self):
        super().serviceStarted()  # takes the methods to offer from the factory's portal
        # A checker per connection: it remembers the controller's answer for each key, so that a key's query
        # and its signed request cost one lookup, and asking again and again about one key costs nothing.
        self.portal = portal.Portal(Realm(), [KeyChecker(self.transport.factory.controller)])
        self.told = set()

    def tryAuth(self, kind, user, data):
        attempt = super().tryAuth(kind, user, data)
        if kind != b"none":  # a client's first request, which only asks what methods there are
            attempt.addErrback(self._failed)
        return attempt

    def _failed(self, reason):
        if reason.check(error.IgnoreAuthentication):  # a known key's query: the client signs with it next
            return reason
        if reason.check(UnknownKey):
            self._tell(unknown_key_text(reason.value.fingerprint))
        source = self.transport.source
        if self.transport.factory.limits.failed(source):
            log.msg(f"closing a connection from {source}: too many failed authentications")
            self.transport.close("too many failed authentications from your address",
                                 transport.DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE)
            return failure.Failure(error.IgnoreAuthentication())  # nothing more is sent after a disconnect
        return reason

    def _tell(self, text):
        """A userauth banner (RFC 4252 §5.4): OpenSSH prints it at its default log level, before its own
        "Permission denied", which is all a refused key would read otherwise. Once per text: a client may
        offer the same key twice."""
        if text not in self.told:
            self.told.add(text)
            self.transport.sendPacket(userauth.MSG_USERAUTH_BANNER, NS(text.encode()) + NS(b""))
