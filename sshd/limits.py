"""How much the builder lets each source address try before it is known: failed authentications in a
window, and connections that have not authenticated yet, per source and in total.

The counts live in this process's memory: the builder is one process, so they need no shared store, and a
restart forgets them (a blocked address may try again at once after one).
"""
import ipaddress
import math
import time
from collections import Counter


def source_of(host):
    """The address limits count by. An IPv6 client's whole /64 counts as one, since one host or site usually
    holds all of it; an IPv4 client reaching an IPv6 socket counts as its IPv4 address."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class SourceLimits:
    def __init__(self, failures_allowed, window, per_source, total, clock=time.monotonic):
        self.failures_allowed, self.window = failures_allowed, window
        self.per_source, self.total = per_source, total
        self.clock = clock
        self.failures = {}  # source -> [start of its window, failures in it]
        self.unauthenticated = Counter()  # source -> connections open and not authenticated yet
        self.unauthenticated_total = 0

    @classmethod
    def from_settings(cls, settings):
        return cls(settings.builder_auth_failures, settings.builder_auth_failure_window,
                   settings.builder_unauthenticated_per_source, settings.builder_unauthenticated)

    # -- connections -----------------------------------------------------------------------------
    def refusal(self, source):
        """Why a new connection from `source` must be closed at once, or None when it may go on."""
        left = self.blocked_for(source)
        if left:
            return f"too many failed authentications from {source}; try again in {math.ceil(left)} s"
        if self.unauthenticated[source] >= self.per_source:
            return f"too many unauthenticated connections from {source}; try again shortly"
        if self.unauthenticated_total >= self.total:
            return "too many unauthenticated connections; try again shortly"
        return None

    def opened(self, source):
        self.unauthenticated[source] += 1
        self.unauthenticated_total += 1

    def settled(self, source):
        """A connection `opened` authenticated or went away: it no longer counts."""
        self.unauthenticated[source] -= 1
        self.unauthenticated_total -= 1
        if self.unauthenticated[source] <= 0:
            del self.unauthenticated[source]

    # -- failed authentications ------------------------------------------------------------------
    def failed(self, source):
        """Counts one failed authentication; True once the source has used up its window's allowance."""
        now = self.clock()
        entry = self.failures.get(source)
        if entry is None or now - entry[0] >= self.window:
            entry = self.failures[source] = [now, 0]
        entry[1] += 1
        return entry[1] >= self.failures_allowed

    def blocked_for(self, source):
        """Seconds left in the window of a source that used up its allowance; 0 when it may try."""
        entry = self.failures.get(source)
        if entry is None or entry[1] < self.failures_allowed:
            return 0
        return max(0, entry[0] + self.window - self.clock())

    def forget_expired(self):
        """Drops the windows that have passed (server.py calls this every window)."""
        now = self.clock()
        for source in [s for s, (start, _) in self.failures.items() if now - start >= self.window]:
            del self.failures[source]
