"""One tenant's certificate never blocks everyone's routes.

nginx refuses a whole configuration when it cannot load one certificate (a key too small, a key that does not
match), and the last good configuration would then keep serving for every app. So when nginx refuses a
configuration, the certificates it has not judged yet are tried apart from the routes, halving the set until
each one it refuses stands alone; the server blocks of those are left out of the next render and everything
else goes live.

Verdicts are kept per certificate content (certificate and key PEM): a refused certificate costs a few
`nginx -t`s once, then is left out up front, and a certificate served in a configuration nginx took is never
tried apart. Only a refusal no certificate explains (the platform's own) keeps the last good configuration.
"""
import hashlib
import re

from core import certificates as rules
from router.apply import RouterConfigError
from router.render import render, render_certificate_check


def _digest(pair):
    return hashlib.sha256("\0".join(pair).encode()).hexdigest()


class Verdicts:
    """nginx's verdict per certificate content: None when nginx served it, else what it refused."""

    def __init__(self):
        self._known = {}

    def judged(self, pairs):
        """{name: problem or None} of the certificates in `pairs` with a verdict."""
        return {name: self._known[_digest(pair)] for name, pair in pairs.items() if _digest(pair) in self._known}

    def refused(self, pairs):
        return {name: problem for name, problem in self.judged(pairs).items() if problem}

    def unjudged(self, pairs):
        return {name: pair for name, pair in pairs.items() if _digest(pair) not in self._known}

    def record(self, pair, problem):
        self._known[_digest(pair)] = problem

    def keep_only(self, pairs):
        """Forgets the certificates no longer attached, so that the verdicts stay as few as the certificates."""
        wanted = {_digest(pair) for pair in pairs.values()}
        self._known = {digest: problem for digest, problem in self._known.items() if digest in wanted}


def problem_of(pair, refusal):
    """What to tell the certificate's owner: what the upload check finds in it (actionable), then nginx's
    own words without the router's paths and timestamps."""
    said = [re.sub(r'"/[^"]*/([^"/]*)"', r'"\1"', re.sub(r"^\d+#\d+: ", "", line.split("[emerg] ", 1)[1]))
            for line in refusal.splitlines() if "[emerg] " in line] or refusal.splitlines()[:1]
    ours = " ".join(rules.problems(*pair).values())
    return f"{ours + ' ' if ours else ''}(nginx: {'; '.join(said)})"


def judge(nginx, pairs, verdicts, options):
    """Finds the certificates of `pairs` nginx refuses: tries them together, then halves the set that nginx
    refuses until each refused certificate stands alone (a few dozen small `nginx -t`s for one bad certificate
    among thousands). Returns {name: problem}. `options`: the listen addresses and runtime folder, as for the
    real configuration. When nginx refuses even the configuration without any tenant certificate, the fault
    is the platform's: no tenant is blamed."""
    if not pairs or nginx.refusal(render([], **options)) is not None:
        return {}
    return _halve(nginx, sorted(pairs.items()), verdicts, options)


def _halve(nginx, items, verdicts, options):
    refusal = nginx.refusal(render_certificate_check([name for name, _ in items], **options))
    if refusal is None:
        for _, pair in items:
            verdicts.record(pair, None)
        return {}
    if len(items) == 1:
        (name, pair), = items
        problem = problem_of(pair, refusal)
        verdicts.record(pair, problem)
        return {name: problem}
    half = len(items) // 2
    return {**_halve(nginx, items[:half], verdicts, options), **_halve(nginx, items[half:], verdicts, options)}


def apply_isolated(nginx, draw, pairs, verdicts, options, files_changed=False):
    """Applies draw(refused names) with the certificates nginx refuses left out. pairs: {name: (certificate
    PEM, key PEM)} of the attached certificates, their files written. Returns True when nginx was (re)loaded;
    raises RouterConfigError when nginx refuses a configuration without any certificate to blame."""
    verdicts.keep_only(pairs)
    refused = verdicts.refused(pairs)
    try:
        reloaded = nginx.apply(draw(set(refused)), files_changed)
    except RouterConfigError:
        found = judge(nginx, verdicts.unjudged(pairs), verdicts, options)
        if not found:
            raise
        refused.update(found)
        reloaded = nginx.apply(draw(set(refused)), files_changed)
    for name, pair in pairs.items():
        if name not in refused:
            verdicts.record(pair, None)
    return reloaded
