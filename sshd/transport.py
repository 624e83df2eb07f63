"""One SSH connection to the builder, within its limits (sshd.limits): a source over them is closed before
any SSH is spoken, a connection must authenticate within the login grace, and an authenticated one that
carries no channel traffic for the idle timeout is closed."""
from twisted.conch.ssh import transport
from twisted.internet import reactor
from twisted.python import log

from sshd.limits import source_of

FIRST_CHANNEL_MESSAGE = 90  # RFC 4250 §4.1.2: 90-127 are channel messages (open, data, window, requests, close)
ABORT_SECONDS = 5  # after our disconnect message, how long a client that reads nothing may keep the socket


class GuardedTransport(transport.SSHServerTransport):
    source = None
    refused = False
    unauthenticated = False  # counted by the limits until it authenticates or goes
    timer = None  # the login grace, then the idle check
    closing = False
    last_activity = 0.0

    def connectionMade(self):
        limits = self.factory.limits
        self.source = source_of(self.transport.getPeer().host)
        refusal = limits.refusal(self.source)
        if refusal:
            self.refused = True
            log.msg(f"refused a connection from {self.source}: {refusal}")
            # Lines before the version are allowed (RFC 4253 §4.2); `ssh -v` and netcat show this one.
            self.transport.write(f"Pier's builder: {refusal}\r\n".encode())
            self.transport.loseConnection()
            return
        limits.opened(self.source)
        self.unauthenticated = True
        grace = self.factory.settings.builder_login_grace
        self.timer = reactor.callLater(grace, self.close, f"did not authenticate within {grace:g} s")
        super().connectionMade()

    def dataReceived(self, data):
        if not self.refused:  # a refused connection never started SSH: what it sends goes nowhere
            super().dataReceived(data)

    def setService(self, service):
        super().setService(service)
        if self.unauthenticated and hasattr(self, "avatar") and not self.closing:  # conch sets the avatar on login
            self.unauthenticated = False
            self.factory.limits.settled(self.source)
            self._stop_timer()
            self.last_activity = reactor.seconds()
            self.timer = reactor.callLater(self.factory.settings.builder_idle_timeout, self._check_idle)

    # Traffic either way counts: a push waiting for its build hears "... still building" every few seconds.
    def dispatchMessage(self, messageNum, payload):
        if messageNum >= FIRST_CHANNEL_MESSAGE:
            self.last_activity = reactor.seconds()
        super().dispatchMessage(messageNum, payload)

    def sendPacket(self, messageType, payload):
        if messageType >= FIRST_CHANNEL_MESSAGE:
            self.last_activity = reactor.seconds()
        super().sendPacket(messageType, payload)

    def _check_idle(self):
        timeout = self.factory.settings.builder_idle_timeout
        idle = reactor.seconds() - self.last_activity
        if idle >= timeout:
            self.close(f"no channel activity for {timeout:g} s")
        else:
            self.timer = reactor.callLater(timeout - idle, self._check_idle)

    def close(self, why, code=transport.DISCONNECT_BY_APPLICATION):
        """Says why (ssh prints it) and closes; a client that does not read is cut off soon after."""
        if self.closing:
            return
        self.closing = True
        self._stop_timer()
        self.sendDisconnect(code, why.encode())
        self.timer = reactor.callLater(ABORT_SECONDS, self.transport.abortConnection)

    def _stop_timer(self):
        if self.timer is not None and self.timer.active():
            self.timer.cancel()

    def connectionLost(self, reason=None):
        self._stop_timer()
        if self.refused:
            return  # it never started SSH: nothing to stop or count
        if self.unauthenticated:
            self.unauthenticated = False
            self.factory.limits.settled(self.source)
        super().connectionLost(reason)
