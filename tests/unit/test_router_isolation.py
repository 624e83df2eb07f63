"""Isolating the certificates nginx refuses, and the certificate files: with a stand-in for nginx."""
import os

import pytest

from router.apply import RouterConfigError
from router.certs import write_files
from router.isolate import Verdicts, apply_isolated, problem_of
from router.render import render
from tests.unit.test_certificates import rsa_key, self_signed

OPTIONS = {"listen": "80", "tls_listen": "443", "runtime": "/run/pier"}


class StandInNginx:
    """Refuses every configuration that loads one of `bad` certificates, as nginx does; counts its `nginx -t`s."""

    def __init__(self, bad=(), broken=False):
        self.bad, self.broken, self.checks, self.applied = set(bad), broken, [], []

    def refusal(self, text, candidate=None):
        self.checks.append(text)
        for name in sorted(self.bad):
            if f"/tenants/{name}.crt;" in text:
                return (f'2026/01/01 00:00:00 [emerg] 7#7: SSL_CTX_use_certificate("/run/pier/certs/tenants/'
                        f'{name}.crt") failed (SSL: error:0A00018F:SSL routines::ee key too small)\n'
                        "nginx: configuration file /run/pier/nginx.conf.new test failed")
        return "nginx: [emerg] unknown directive" if self.broken else None

    def apply(self, text, files_changed=False):
        refusal = self.refusal(text)
        if refusal:
            raise RouterConfigError(refusal)
        self.applied.append(text)
        return True


def routes(*names):
    return [{"app": f"app-{name}", "hosts": [f"www.{name}.example", f"{name}.localhost"], "endpoints": [],
             "maintenance": False, "certificates": {f"www.{name}.example": name}} for name in names]


def draw_for(app_routes):
    return lambda refused: render(app_routes, refused=refused, **OPTIONS)


PAIRS = {name: (f"certificate of {name}", f"key of {name}") for name in ("good", "weak", "other")}


def test_a_refused_certificate_is_left_out_and_every_other_route_goes_live():
    nginx, verdicts = StandInNginx(bad={"weak"}), Verdicts()
    assert apply_isolated(nginx, draw_for(routes(*PAIRS)), PAIRS, verdicts, OPTIONS) is True
    live = nginx.applied[-1]
    assert "www.weak.example" not in live and "server_name weak.localhost;" in live
    assert "www.good.example" in live and "www.other.example" in live
    assert verdicts.judged(PAIRS) == {"good": None, "other": None, "weak": verdicts.refused(PAIRS)["weak"]}
    assert "ee key too small" in verdicts.refused(PAIRS)["weak"]


def test_a_verdict_is_kept_so_a_refused_certificate_costs_no_check_per_sync():
    nginx, verdicts = StandInNginx(bad={"weak"}), Verdicts()
    apply_isolated(nginx, draw_for(routes(*PAIRS)), PAIRS, verdicts, OPTIONS)
    # the whole, none, all three, [good] then [other, weak], [other] then [weak], the whole without weak
    first = len(nginx.checks)
    assert first == 8
    apply_isolated(nginx, draw_for(routes(*PAIRS, "new")), dict(PAIRS, new=("c", "k")), verdicts, OPTIONS)
    assert len(nginx.checks) == first + 1 and "www.new.example" in nginx.applied[-1]


def test_one_refused_certificate_among_many_costs_a_few_checks():
    pairs = {f"cert-{i}": (f"certificate {i}", f"key {i}") for i in range(64)}
    nginx, verdicts = StandInNginx(bad={"cert-41"}), Verdicts()
    apply_isolated(nginx, draw_for(routes(*pairs)), pairs, verdicts, OPTIONS)
    assert set(verdicts.refused(pairs)) == {"cert-41"} and len(verdicts.judged(pairs)) == 64
    assert len(nginx.checks) == 3 + 1 + 2 * 6, "the whole, none, the whole again; all 64; two per halving"


def test_only_certificates_never_judged_are_tried_apart():
    nginx, verdicts = StandInNginx(), Verdicts()
    apply_isolated(nginx, draw_for(routes(*PAIRS)), PAIRS, verdicts, OPTIONS)
    nginx.bad.add("late")
    pairs = dict(PAIRS, late=("late certificate", "late key"))
    apply_isolated(nginx, draw_for(routes(*pairs)), pairs, verdicts, OPTIONS)
    apart = [text for text in nginx.checks if "certificate-check.invalid" in text]
    assert len(apart) == 1 and "/tenants/late.crt;" in apart[0] and "/tenants/good.crt;" not in apart[0]


def test_a_refusal_no_certificate_explains_keeps_the_last_good_configuration():
    nginx, verdicts = StandInNginx(broken=True), Verdicts()
    with pytest.raises(RouterConfigError):
        apply_isolated(nginx, draw_for(routes(*PAIRS)), PAIRS, verdicts, OPTIONS)
    assert nginx.applied == [] and verdicts.judged(PAIRS) == {}
    assert len(nginx.checks) == 2, "the whole, then the platform's part alone: no tenant is tried or blamed"


def test_a_changed_certificate_under_the_same_name_is_judged_anew():
    nginx, verdicts = StandInNginx(bad={"weak"}), Verdicts()
    apply_isolated(nginx, draw_for(routes(*PAIRS)), PAIRS, verdicts, OPTIONS)
    replaced = dict(PAIRS, weak=("a new certificate", "its key"))
    assert verdicts.judged(replaced) == {"good": None, "other": None}
    nginx.bad.clear()
    apply_isolated(nginx, draw_for(routes(*replaced)), replaced, verdicts, OPTIONS)
    assert "www.weak.example" in nginx.applied[-1] and verdicts.refused(replaced) == {}


def test_the_problem_says_what_the_upload_check_says_and_nginx_s_words_without_paths():
    _, cert_text, key_text = self_signed("weak.example", key=rsa_key(1024))
    refusal = StandInNginx(bad={"weak"}).refusal("/tenants/weak.crt;")
    problem = problem_of((cert_text, key_text), refusal)
    assert problem.startswith("The key is RSA 1024 bits") and "2048" in problem
    assert problem.endswith('(nginx: SSL_CTX_use_certificate("weak.crt") failed (SSL: error:0A00018F:SSL '
                            'routines::ee key too small))')
    assert "/run/pier" not in problem and "2026" not in problem


def contents(folder):
    return {os.path.relpath(os.path.join(parent, name), folder): open(os.path.join(parent, name)).read()
            for parent, _, names in os.walk(folder) for name in names}


def test_tenant_files_live_apart_from_the_platform_s_and_go_when_detached(tmp_path):
    runtime = str(tmp_path)
    assert write_files(runtime, {"default": ("tenant certificate", "tenant key"), "shop": ("c", "k")}) is True
    files = contents(runtime)
    assert files["certs/tenants/default.crt"] == "tenant certificate"
    assert files["certs/platform/default.crt"].startswith("-----BEGIN CERTIFICATE-----")
    assert "tenant key" not in files["certs/platform/default.key"]
    assert write_files(runtime, {"shop": ("c", "k")}) is False, "nothing nginx reads changed"
    assert set(contents(runtime)) == {"certs/platform/default.crt", "certs/platform/default.key",
                                      "certs/tenants/shop.crt", "certs/tenants/shop.key"}
    assert contents(runtime)["certs/platform/default.key"] == files["certs/platform/default.key"]
    for folder in ("certs", "certs/tenants", "certs/platform"):
        assert os.stat(tmp_path / folder).st_mode & 0o077 == 0
    assert os.stat(tmp_path / "certs/tenants/shop.key").st_mode & 0o077 == 0


def test_files_of_the_old_layout_are_removed_and_names_never_make_paths(tmp_path):
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "default.key").write_text("a tenant's key, from when tenants shared this folder")
    write_files(str(tmp_path), {"../escape": ("c", "k"), "shop": ("c", "k")})
    assert set(contents(str(tmp_path))) == {"certs/platform/default.crt", "certs/platform/default.key",
                                            "certs/tenants/shop.crt", "certs/tenants/shop.key"}
