"""The autoscaler: every PIER_AUTOSCALE_INTERVAL seconds, each process type with an autoscale rule is sized by
the CPU its containers use (`hpa.decide`), through the scale service: a change is a scale operation, so leases,
settling and the app's lock apply to it as to any scale, and an app with a job going is left alone.

On a runtime that autoscales by itself (`Scheduler.runtime_autoscales`: Kubernetes) the round samples nothing:
it hands each app's rules to `scheduler.autoscale`, which makes the runtime's autoscalers match them (creates,
updates, and removes those of types that lost their rule). That is idempotent and writes only what differs, so
rules set or unset through the API, and types a deploy added or dropped, reach the runtime within one round,
and an autoscaler removed by hand comes back."""
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from statistics import mean

from flask import current_app

from core import redis_client
from core.extensions import db
from core.models import App, AppSettings
from core.services import operations, processes, releases
from workers.runners.hpa import decide
from workers.runners.operations import scheduler_for
from workers.runners.specs import release_spec, running_release

log = logging.getLogger("pier.autoscale")
SAMPLE_CONCURRENCY = 4  # apps sampled at once (the Docker scheduler samples each app's containers in parallel too)
# jobs that change an app's processes: while one is pending, running or settling the autoscaler keeps out
BUSY = operations.AFTER_SETTLING


class Recommendations:
    """Each autoscaled type's recent recommendations, for the down-stabilization window: a Redis sorted set per
    app and type, scored by time, that forgets what is older than the window."""

    def __init__(self, redis_url):
        self.redis = redis_client.client(redis_url, decode_responses=True)

    @staticmethod
    def key(app_uuid, process_type):
        return f"pier:autoscale:{app_uuid}:{process_type}"

    def window(self, app_uuid, process_type, now, seconds):
        key = self.key(app_uuid, process_type)
        self.redis.zremrangebyscore(key, "-inf", f"({now - seconds}")
        return [int(member.rpartition(":")[2]) for member in self.redis.zrangebyscore(key, now - seconds, "+inf")]

    def remember(self, app_uuid, process_type, now, recommendation, seconds):
        key = self.key(app_uuid, process_type)
        pipe = self.redis.pipeline()
        pipe.zadd(key, {f"{now:.6f}:{recommendation}": now})
        pipe.expire(key, int(seconds) + 60)
        pipe.execute()


def _rules_in_force():
    """{app uuid: rules} of every app whose newest settings hold rules, or ({}) whose rules were all unset since
    some earlier row held one (a runtime that autoscales may still run their autoscalers)."""
    newest = db.session.execute(db.select(AppSettings.app_uuid, AppSettings.autoscale)
                                .distinct(AppSettings.app_uuid)
                                .order_by(AppSettings.app_uuid, AppSettings.created.desc())).all()
    once = set(db.session.execute(db.select(AppSettings.app_uuid).distinct()
                                  .where(AppSettings.autoscale != {})).scalars())
    return {app_uuid: dict(rules) for app_uuid, rules in newest if rules or app_uuid in once}


def autoscaled_apps(rules_of):
    """(app uuid, release spec, its process types, rules) of each app of `rules_of` ({app uuid: rules}) with a
    running release and no job."""
    found = []
    for app_uuid, rules in sorted(rules_of.items()):
        app = db.session.get(App, app_uuid)
        if app is None or operations.active(app, BUSY) or operations.settling(app):
            continue
        release = running_release(app)
        if release is not None:
            found.append((app.uuid, release_spec(app, release), releases.process_types(release.build), rules))
    return found


def autoscale_all():
    """One round: samples every autoscaled app's CPU, decides, and enqueues the scales; returns
    {app id: {process type: count}} of the scales it enqueued. On a runtime that autoscales by itself, hands
    the rules over instead (`hand_over`) and returns {}."""
    settings = current_app.config["PIER"]
    rules_of = _rules_in_force()
    db.session.rollback()
    if not rules_of:
        return {}
    scheduler = scheduler_for(settings)
    if scheduler.runtime_autoscales:
        candidates = autoscaled_apps(rules_of)
        db.session.rollback()  # never idle in a transaction while the cluster is called
        hand_over(scheduler, candidates)
        return {}
    candidates = autoscaled_apps({app_uuid: rules for app_uuid, rules in rules_of.items() if rules})
    db.session.rollback()  # never idle in a transaction while the engine is sampled
    if not candidates:
        return {}
    with ThreadPoolExecutor(max_workers=SAMPLE_CONCURRENCY) as pool:
        samples = list(pool.map(lambda c: _sample(scheduler, c[1], set(c[3]) & c[2]), candidates))
    history, scaled = Recommendations(settings.redis_url), {}
    for (app_uuid, spec, types, rules), usage in zip(candidates, samples):
        if usage is None:
            continue  # the runtime autoscales by itself
        try:
            changes = _decide_app(settings, history, app_uuid, spec, types, rules, usage)
        except Exception:  # noqa: BLE001 - one app's trouble never stops the others' autoscaling
            log.exception("autoscaling %s failed", spec.app)
            db.session.rollback()
            continue
        if changes:
            scaled[spec.app] = changes
    db.session.rollback()
    return scaled


def hand_over(scheduler, candidates):
    """Gives each app's rules, for the types its running release has, to the runtime's autoscalers; returns
    the ids of the apps handed over (one that failed is tried again next round)."""
    def one(candidate):
        _, spec, types, rules = candidate
        try:
            scheduler.autoscale(spec, {t: rule for t, rule in rules.items() if t in types})
            return spec.app
        except Exception:  # noqa: BLE001 - one app's trouble never stops the others'; the next round retries
            log.exception("could not hand the autoscale rules of %s to the scheduler", spec.app)
            return None

    with ThreadPoolExecutor(max_workers=SAMPLE_CONCURRENCY) as pool:
        return [app_id for app_id in pool.map(one, candidates) if app_id]


def _sample(scheduler, spec, process_types):
    try:
        return scheduler.cpu_usage(spec, sorted(process_types))
    except Exception:  # noqa: BLE001 - no sample this round; the next one tries again
        log.exception("could not sample the CPU of %s", spec.app)
        return {}


def _decide_app(settings, history, app_uuid, spec, types, rules, usage):
    app = db.session.get(App, app_uuid)
    if app is None:
        return {}
    now, window = time.time(), settings.autoscale_down_window
    structure, changes = dict(app.structure), {}
    for process_type, rule in sorted(rules.items()):
        if process_type not in types:
            continue  # a rule for a type this release does not have
        figures = usage.get(process_type) or []
        current = structure.get(process_type, 0)
        decision = decide(current, mean(figures) if figures else None, rule,
                          history.window(str(app_uuid), process_type, now, window))
        if decision.recommendation is not None:
            history.remember(str(app_uuid), process_type, now, decision.recommendation, window)
        if decision.desired != current:
            changes[process_type] = (decision.desired, decision.reason)
    if changes and processes.autoscale(app, changes) is not None:
        log.info("autoscaled %s: %s", spec.app, changes)
        return {process_type: count for process_type, (count, _) in changes.items()}
    db.session.rollback()
    return {}
