"""A person at a terminal: their HOME with an SSH key and a `pier` profile, running the real `pier` command."""
import subprocess
import sys
from pathlib import Path

from tests.support.builder import Pusher
from tests.support.docker_apps import APPS

PIER = str(Path(sys.executable).parent / "pier")
WEB = {name: (Path(APPS) / "web" / name).read_text() for name in ("Dockerfile", "server.py")}
PASSWORD = "a long passphrase for e2e"


def web_app(message):
    return dict(WEB, **{"default.txt": message})


class User(Pusher):
    def __init__(self, platform, home, name):
        super().__init__(home, platform.ssh_port)
        self.platform, self.name = platform, name

    def env(self):
        return dict(super().env(), PIER_BUILDER_PORT=str(self.platform.ssh_port), PIER_DOMAIN="e2e.localhost",
                    NO_COLOR="1")

    def pier(self, *args, cwd=None, stdin=None, timeout=600):
        """(exit code, stdout, stderr) of `pier args…`."""
        done = subprocess.run([PIER, *args], cwd=cwd or self.home, env=self.env(), capture_output=True, text=True,
                              input=stdin, timeout=timeout)
        return done.returncode, done.stdout, done.stderr

    def ok(self, *args, **kwargs):
        code, out, err = self.pier(*args, **kwargs)
        assert code == 0, f"pier {' '.join(args)} exited {code}:\n{out}\n{err}"
        return out + err

    def fails(self, *args, **kwargs):
        code, out, err = self.pier(*args, **kwargs)
        assert code != 0, f"pier {' '.join(args)} should have failed:\n{out}\n{err}"
        return out + err

    def register(self, as_admin=None):
        args = ["register", self.platform.url, "--username", self.name, "--password", PASSWORD,
                "--email", f"{self.name}@example.com"]
        if as_admin is not None:  # an administrator registers this user; then the user logs in themselves
            as_admin.ok(*args, "--no-login")
            return self.ok("login", self.platform.url, "--username", self.name, "--password", PASSWORD)
        return self.ok(*args)

    def git_push(self, repo, remote="pier", refspec="main"):
        done = subprocess.run(["git", "push", remote, refspec], cwd=repo, env=self.env(), capture_output=True,
                              text=True, timeout=900)
        return done.returncode, done.stdout + done.stderr
