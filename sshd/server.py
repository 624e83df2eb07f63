"""The builder's SSH daemon: `python -m sshd.server` (the Procfile's `builder`)."""
import sys
import threading
from types import SimpleNamespace

from twisted.conch.ssh import factory
from twisted.cred import portal
from twisted.internet import endpoints, reactor, task, threads
from twisted.python import log

from core.metrics import serve
from core.settings import Settings
from sshd import hostkey, sweeper
from sshd.auth import KeyChecker, Realm
from sshd.controller import Controller
from sshd.hooks import HookServer
from sshd.limits import SourceLimits
from sshd.locks import PushLocks
from sshd.session import PushSession
from sshd.transport import GuardedTransport
from sshd.userauth import KeyAuth

KEY_LOOKUP_SECONDS = 10.0
HOOK_CHECK_SECONDS = 2.0  # how soon a hook server that exited is started again (pushes meanwhile run slower)


def make_factory(settings):
    host_key = hostkey.load_or_create(settings.builder_host_key)
    # A key lookup must end well within the login grace, so that a hung controller is still reported.
    controller = Controller(settings, timeout=min(KEY_LOOKUP_SECONDS, settings.builder_login_grace / 2))
    PushSession.services = SimpleNamespace(settings=settings, controller=controller, hook_socket="",
                                           locks=PushLocks(settings.redis_url, settings.push_lock_timeout))
    ssh = factory.SSHFactory()
    ssh.protocol = GuardedTransport
    ssh.settings, ssh.controller, ssh.limits = settings, controller, SourceLimits.from_settings(settings)
    ssh.portal = portal.Portal(Realm(), [KeyChecker(controller)])  # each connection gets its own (KeyAuth)
    ssh.publicKeys = {host_key.sshType(): host_key.public()}
    ssh.privateKeys = {host_key.sshType(): host_key}
    ssh.services = {**ssh.services, b"ssh-userauth": KeyAuth}
    return ssh, host_key


def renew_push_locks():
    """Keeps the push locks of running pushes alive (from a thread: Redis calls block)."""
    held = [session.lock[1] for session in PushSession.holding if session.lock is not None]
    if held:
        locks = PushSession.services.locks
        threads.deferToThread(lambda: [locks.renew(lock) for lock in held]).addErrback(log.err)


def listen_description(listen):
    host, _, port = listen.rpartition(":")
    return f"tcp:{port}:interface={host}" if host else f"tcp:{port}"


def main():
    settings = Settings.from_env()
    ssh, host_key = make_factory(settings)
    hook_server = HookServer()
    hook_server.check(fork=True)  # before any thread: it shares this process's imported pages
    log.startLogging(sys.stdout)
    serve(settings, "builder")
    stop = threading.Event()
    threading.Thread(target=sweeper.listen, args=(settings, Controller(settings), stop), daemon=True,
                     name="sweeper").start()
    reactor.addSystemEventTrigger("before", "shutdown", stop.set)
    PushSession.services.hook_socket = hook_server.path
    task.LoopingCall(hook_server.check).start(HOOK_CHECK_SECONDS, now=False)
    reactor.addSystemEventTrigger("before", "shutdown", hook_server.stop)
    task.LoopingCall(renew_push_locks).start(settings.push_lock_timeout / 3, now=False)
    task.LoopingCall(ssh.limits.forget_expired).start(settings.builder_auth_failure_window, now=False)
    endpoint = endpoints.serverFromString(reactor, listen_description(settings.builder_listen))
    endpoint.listen(ssh).addCallback(
        lambda port: print(f"builder listening on {settings.builder_listen}, host key "
                           f"{hostkey.fingerprint(host_key)}", flush=True))
    reactor.suggestThreadPoolSize(20)
    reactor.run()


if __name__ == "__main__":
    main()
