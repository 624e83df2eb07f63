"""The whole rendered nginx configuration for routes that use every behaviour, against a checked-in file.

A change to the template shows up here as a diff to review. To accept one on purpose:
    PIER_UPDATE_GOLDEN=1 scripts/with-env pytest tests/unit/test_render_golden.py
"""
import os
from pathlib import Path

from router.render import render

GOLDEN = Path(__file__).parent / "golden" / "nginx.conf"

ROUTES = [
    {"app": "plain", "hosts": ["plain.localhost"], "endpoints": ["172.18.0.2:5000", "172.18.0.3:5000"],
     "maintenance": False},
    {"app": "shop", "hosts": ["shop.localhost", "www.shop.example", "*.shop.example", "old.shop.example"],
     "endpoints": ["172.18.0.4:8080"], "maintenance": False, "https_enforced": True,
     "certificates": {"www.shop.example": "shop-cert", "old.shop.example": "refused-cert"},
     "whitelist": ["10.0.0.0/8", "192.168.1.7"],
     "proxy": {"body_size": "10m", "read_timeout": 300, "connect_timeout": 10}},
    {"app": "resting", "hosts": ["resting.localhost"], "endpoints": ["172.18.0.5:5000"], "maintenance": True},
    {"app": "idle", "hosts": ["idle.localhost"], "endpoints": [], "maintenance": False},
]


def rendered():
    return render(ROUTES, listen="80", tls_listen="443", runtime="/var/lib/pier/router",
                  trusted_proxies=("127.0.0.1", "10.1.0.0/16"), refused={"refused-cert"})


def test_the_rendered_configuration_matches_the_golden_file():
    text = rendered()
    if os.environ.get("PIER_UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text(), "the rendered nginx.conf changed; review the diff (see the docstring)"
