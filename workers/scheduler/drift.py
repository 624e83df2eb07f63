"""Desired state against observed pods, as a pure function: the reconcile loop's judgement."""


def differences(spec, structure, pods):
    """Reasons why `pods` (one app's) differ from `spec` running at `structure`; [] when they match."""
    reasons = []
    wanted = {t: n for t, n in structure.items() if n > 0}
    for process_type, count in sorted(wanted.items()):
        current = [p for p in pods if p.type == process_type and p.release == spec.release]
        # a crashed process its runtime is restarting (with backoff) is left to it: replacing it would only
        # reset that backoff
        present = [p for p in current if p.state == "up" or p.recovering]
        if len(present) < count:
            states = ", ".join(sorted(f"{p.name} {p.state}" for p in current if p not in present))
            reasons.append(f"{process_type}: {len(present)} of {count} up" + (f" ({states})" if states else ""))
        elif len(current) > count:
            reasons.append(f"{process_type}: {len(current)} running, {count} wanted")
    strays = sorted(p.name for p in pods if p.type not in wanted or p.release != spec.release)
    if strays:
        reasons.append(f"not part of {spec.release} at this scale: {', '.join(strays)}")
    return reasons
