"""What a git client may ask the builder to run, parsed strictly: nothing else ever reaches a process."""
import re

from core.validators import APP_ID

# git sends `git-receive-pack 'app.git'` (scp-like URLs) or `git-receive-pack '/app.git'` (ssh:// URLs).
COMMAND = re.compile(r"(git-receive-pack|git-upload-pack) '/?([^'/]+)'")
PUSH, CLONE = "git-receive-pack", "git-upload-pack"


class Refused(Exception):
    """A request the builder will not serve; the text goes to the client's terminal."""


def parse(raw):
    """(verb, app) from an SSH exec request, or Refused with a message that says what is allowed."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("Pier's builder only serves git push and git clone.") from None
    match = COMMAND.fullmatch(text.strip())
    if match is None:
        raise Refused("Pier's builder only serves git push and git clone, e.g. "
                      "git push pier main (remote ssh://git@<host>:2222/<app>.git).")
    verb, repo = match.groups()
    if not repo.endswith(".git"):
        raise Refused(f"'{repo}' is not a Pier repository: use <app>.git.")
    app = repo[:-len(".git")]
    if len(app) > 63 or not APP_ID.fullmatch(app):
        raise Refused(f"'{repo}' is not a Pier repository: app names are lowercase letters, digits "
                      "and hyphens.")
    return verb, app
