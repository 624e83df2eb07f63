"""One SSH session: checks the request, takes the app's push lock, runs git with Pier's hook."""
import os
import signal
import tempfile
import time

from twisted.conch.interfaces import ISession
from twisted.conch.ssh import connection
from twisted.internet import error, reactor, threads
from twisted.python import components, failure, log
from zope.interface import implementer

from sshd import commands, hooks, metrics, outcome, repos
from sshd.auth import PushUser

FAILED = 128  # what git itself exits with when the remote side refuses


class PendingInput:
    """Stands in for the git process until it exists, keeping what the client sends meanwhile."""

    def __init__(self):
        self.data, self.eof, self.lost = [], False, False

    def write(self, data):
        self.data.append(data)

    def closeStdin(self):
        self.eof = True

    def loseConnection(self):
        self.lost = True


@implementer(ISession)
class PushSession:
    """Created per channel by adapting the authenticated PushUser (see the registerAdapter below)."""

    services = None  # set by server.py: the settings, push locks and controller every session shares
    holding = set()  # the sessions holding a push lock now, whose locks server.py renews

    def __init__(self, user):
        self.identity = user.identity
        self.process = None
        self.protocol = None
        self.lock = None  # (app, token) while this session holds the app's push lock
        self.verb = None

    # -- what a client may ask for ------------------------------------------------------------
    def execCommand(self, protocol, raw):
        protocol.transport = PendingInput()
        self.protocol = protocol
        try:
            verb, app = commands.parse(raw)
            self.verb = verb
            self._authorize(app)
        except commands.Refused as refused:
            return self._refuse(str(refused))
        if verb == commands.CLONE:
            return self._start(verb, app)
        deferred = threads.deferToThread(self.services.locks.acquire, app)
        deferred.addCallback(self._locked, verb, app)
        deferred.addErrback(self._failed)

    def openShell(self, protocol):
        protocol.transport = PendingInput()
        self.protocol = protocol
        who = self.identity.username or "there"
        self._refuse(f"Hi {who}! Pier's builder has no shell; push with git push pier main.", code=1)

    def getPty(self, term, window, modes):
        pass  # accepted and ignored: git never asks for one, and a shell is refused anyway

    def windowChanged(self, size):
        pass

    def eofReceived(self):
        if self.protocol is not None and self.protocol.transport is not None:
            self.protocol.transport.closeStdin()

    def closed(self):
        """The client is gone (or done): stop its git and build, and free the app for the next push."""
        if self.process is not None and self.process.pid is not None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        self._unlock()

    # -- the steps -----------------------------------------------------------------------------
    def _authorize(self, app):
        identity = self.identity
        if identity.problem:
            raise commands.Refused(f"Pier's builder could not check your key: {identity.problem}. Try again "
                                   "in a moment; tell your operator if it persists.")
        if app not in identity.apps:
            raise commands.Refused(f"user {identity.username} has no access to app {app}")

    def _locked(self, token, verb, app):
        if token is None:
            return self._refuse("Another git push is ongoing. Wait for it to end, then push again.")
        self.lock = (app, token)
        PushSession.holding.add(self)
        if self.protocol.transport.lost:  # the client left while we waited for the lock
            return self._unlock()
        self._start(verb, app)

    def _start(self, verb, app):
        settings = self.services.settings
        repo = repos.ensure(settings.git_root, app, self.identity.apps[app])
        if verb == commands.CLONE and not repos.has_commits(settings.git_root, app):
            return self._refuse(f"App {app} has no pushes yet: push with git push pier main first.")
        outcome_file = _outcome_file() if verb == commands.PUSH else ""
        environment = dict(os.environ, PIER_PUSH_USER=self.identity.username, PIER_PUSH_APP=app,
                           **{outcome.VARIABLE: outcome_file},
                           PIER_PUSH_KEY=self.identity.fingerprint,
                           # the hook runs inside the repository: relative folders must not move with it
                           PIER_STORAGE_PATH=os.path.abspath(settings.storage_path),
                           PIER_GIT_ROOT=os.path.abspath(settings.git_root))
        if self.services.hook_socket:
            environment[hooks.VARIABLE] = self.services.hook_socket
        pending = self.protocol.transport
        # setsid: git and its hook get their own process group, so a client that leaves stops them all.
        self.process = reactor.spawnProcess(self.protocol, "/usr/bin/setsid", ["setsid", verb, str(repo)],
                                            env=environment, path=str(repo))
        self.protocol.processEnded = self._ended(self.protocol.processEnded, time.monotonic(), outcome_file)
        for data in pending.data:
            self.process.write(data)
        if pending.eof:
            self.process.closeStdin()
        if pending.lost:
            self.closed()

    def _ended(self, report, started, outcome_file):
        def ended(reason=None):
            self._unlock()
            if outcome_file:
                metrics.push_ended(metrics.outcome_of(reason, outcome.take(outcome_file)), time.monotonic() - started)
            report(reason)
        return ended

    def _unlock(self):
        PushSession.holding.discard(self)
        if self.lock is not None:
            app, token = self.lock
            self.lock = None
            deferred = threads.deferToThread(self.services.locks.release, app, token)
            deferred.addErrback(log.err)

    def _failed(self, reason):
        log.err(reason, "push setup failed")
        self._refuse("Pier's builder could not start this push; try again, and tell your operator if "
                     "it keeps failing.")

    def _refuse(self, message, code=FAILED):
        if self.verb == commands.PUSH:
            metrics.push_refused()
        # Later, so that the reply to the exec request reaches the client before the exit status.
        reactor.callLater(0, self._end_with, message, code)

    def _end_with(self, message, code):
        channel = self.protocol.session
        channel.writeExtended(connection.EXTENDED_DATA_STDERR, f"{message}\n".encode())
        self.protocol.processEnded(failure.Failure(error.ProcessTerminated(exitCode=code)))


def _outcome_file():
    handle, path = tempfile.mkstemp(prefix="pier-push-", suffix=".outcome")
    os.close(handle)
    return path


components.registerAdapter(PushSession, PushUser, ISession)
