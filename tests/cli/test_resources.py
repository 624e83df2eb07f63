"""domains, certs, perms, keys and the router settings (routing, maintenance, whitelist, tls, labels)."""
import subprocess

from core.services.certificates import record_router_problems
from tests.cli.conftest import PASSWORD
from tests.unit.test_certificates import self_signed


def test_domains_add_list_remove(hello):
    assert hello("domains:add", "www.example.com", "-a", "hello").stderr == "Adding www.example.com to hello... done\n"
    hello("domains:add", "*.example.org", "-a", "hello")
    assert hello("domains", "-a", "hello").stdout == "=== hello Domains\n*.example.org\nhello\nwww.example.com\n"
    hello("domains:remove", "*.example.org", "-a", "hello")
    hello("domains:remove", "www.example.com", "-a", "hello")
    assert [d["domain"] for d in hello.json("domains:list", "-a", "hello")] == ["hello"]
    assert hello("domains:remove", "www.example.com", "-a", "hello", code=1).stderr.endswith(
        "Error: domain www.example.com of hello not found\n")
    assert "Error: domain: A custom domain needs at least one dot" in hello(
        "domains:add", "intranet", "-a", "hello", code=1).stderr


def test_certs_add_info_attach_detach_remove(hello, tmp_path):
    _, cert_text, key_text = self_signed("example.com", san=["example.com", "www.example.com"])
    (tmp_path / "work" / "cert.pem").write_text(cert_text)
    (tmp_path / "work" / "key.pem").write_text(key_text)
    hello("certs:add", "example-com", "cert.pem", "key.pem")
    assert "Error: " in hello("certs:add", "swapped", "key.pem", "cert.pem", code=1).stderr
    hello("domains:add", "www.example.com", "-a", "hello")
    hello("certs:attach", "example-com", "www.example.com")
    info = hello.json("certs:info", "example-com")
    assert (info["common_name"], info["domains"]) == ("example.com", ["www.example.com"])
    assert "www.example.com" in hello("certs").stdout
    hello("certs:detach", "example-com", "www.example.com")
    assert hello.json("certs:info", "example-com")["domains"] == []
    hello("certs:remove", "example-com")
    assert hello.json("certs") == []
    assert hello("certs:info", "example-com", code=1).stderr == "Error: certificate example-com not found\n"


def test_certs_info_shows_why_the_router_leaves_a_certificate_out(app, hello, tmp_path):
    _, cert_text, key_text = self_signed("example.com")
    (tmp_path / "work" / "cert.pem").write_text(cert_text)
    (tmp_path / "work" / "key.pem").write_text(key_text)
    hello("certs:add", "example-com", "cert.pem", "key.pem")
    assert "Problem:" not in hello("certs:info", "example-com").stdout
    with app.app_context():
        record_router_problems({"example-com": "nginx refused it"})
    assert "Problem:      nginx refused it\n" in hello("certs:info", "example-com").stdout
    assert hello.json("certs:info", "example-com")["problem"] == "nginx refused it"


def test_perms_share_and_unshare_an_app(hello):
    hello("register", hello.controller, "--username", "bob", "--password", PASSWORD, "--email", "bob@example.com")
    assert hello("perms:create", "bob", "-a", "hello").stderr == "Adding bob to hello collaborators... done\n"
    assert hello("perms", "-a", "hello").stdout == "=== hello's Users\nbob\n"
    assert hello.json("sharing", "-a", "hello") == ["bob"]
    assert hello("perms:create", "nobody", "-a", "hello", code=1).stderr.endswith("Error: user nobody not found\n")

    hello("logout")
    hello("login", hello.controller, "--username", "bob", "--password", PASSWORD)
    assert hello.json("apps") and hello.json("apps")[0]["id"] == "hello"
    assert hello("destroy", "-a", "hello", "--confirm", "hello", code=1).stderr.endswith(
        "Error: forbidden: You do not have permission to perform this action.\n")
    assert hello("users", code=1).stderr == "Error: forbidden: You do not have permission to perform this action.\n"
    hello("logout")
    hello("login", hello.controller, "--username", "ada", "--password", PASSWORD)
    hello("perms:delete", "bob", "-a", "hello")
    assert hello.json("perms:list", "-a", "hello") == []


def test_admin_perms(logged_in):
    logged_in("register", logged_in.controller, "--username", "bob", "--password", PASSWORD,
              "--email", "bob@example.com")
    logged_in("perms:create", "bob", "--admin")
    assert logged_in("perms", "--admin").stdout == "=== Administrators\nada\nbob\n"
    logged_in("perms:delete", "bob", "--admin")
    assert logged_in.json("perms:list", "--admin") == ["ada"]
    assert logged_in("perms", "--admin", "-a", "x", code=2).stderr.endswith("use -a APP or --admin, not both\n")


def test_keys_add_the_default_key_list_and_remove(logged_in):
    ssh = logged_in.home / ".ssh"
    ssh.mkdir()
    assert "no public key found" in logged_in("keys:add", code=1).stderr
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ada@laptop", "-f", str(ssh / "id_ed25519")],
                   check=True)
    assert logged_in("keys:add").stderr == "Uploading id_ed25519.pub as ada@laptop... done\n"
    [key] = logged_in.json("keys")
    assert key["id"] == "ada@laptop" and key["public"] == (ssh / "id_ed25519.pub").read_text().strip()
    listing = logged_in("keys:list").stdout
    assert listing.startswith("=== ada Keys\nada@laptop  SHA256:")
    assert "Key with this public already exists." in logged_in("keys:add", str(ssh / "id_ed25519.pub"),
                                                               "--name", "again", code=1).stderr
    assert "is a private key" in logged_in("keys:add", str(ssh / "id_ed25519"), code=1).stderr
    logged_in("keys:remove", "ada@laptop")
    assert logged_in.json("keys") == []
    assert logged_in("keys:remove", "ada@laptop", code=1).stderr.endswith("Error: key ada@laptop not found\n")


def test_routing_maintenance_and_tls(hello):
    assert hello.json("routing:info", "-a", "hello") == {"routable": True}
    assert hello("routing:disable", "-a", "hello").stderr == "Disabling routing for hello... done\n"
    assert "Routing is disabled" in hello("routing", "-a", "hello").stdout
    assert hello("routing:disable", "-a", "hello", code=1).stderr.endswith("Error: ada changed nothing\n")
    hello("routing:enable", "-a", "hello")
    hello("maintenance:on", "-a", "hello")
    assert "Maintenance mode is on" in hello("maintenance", "-a", "hello").stdout
    hello("maintenance:off", "-a", "hello")
    assert hello.json("maintenance:info", "-a", "hello") == {"maintenance": False}
    hello("tls:enable", "-a", "hello")
    assert hello("tls", "-a", "hello").stdout == "=== hello TLS\nHTTPS Enforced: true\n"
    hello("tls:disable", "-a", "hello")
    assert hello.json("tls:info", "-a", "hello")["https_enforced"] is False


def test_whitelist_and_labels(hello):
    hello("whitelist:add", "10.0.0.1,192.168.0.0/24", "-a", "hello")
    assert hello.json("whitelist", "-a", "hello") == ["10.0.0.1", "192.168.0.0/24"]
    hello("whitelist:remove", "10.0.0.1", "-a", "hello")
    assert hello("whitelist:list", "-a", "hello").stdout == "=== hello Whitelisted Addresses\n192.168.0.0/24\n"
    assert "does not exist in whitelist" in hello("whitelist:remove", "10.9.9.9", "-a", "hello", code=1).stderr
    assert "Error: addresses: " in hello("whitelist:add", "not-an-ip", "-a", "hello", code=1).stderr
    hello("labels:set", "team=payments", "tier=gold", "-a", "hello")
    hello("labels:unset", "tier", "-a", "hello")
    assert hello.json("labels", "-a", "hello") == {"team": "payments"}


def test_backups_create_and_list(logged_in, worker):
    created = logged_in("backups:create", "--type", "incr")
    assert created.stderr.startswith("Taking a incr backup... done in") and created.stdout.strip()
    label = created.stdout.split()[0]
    listing = logged_in("backups:list").stdout
    assert listing.startswith("=== Database backups\n") and label in listing
    assert label in [b["label"] for b in logged_in.json("backups:list")["results"]]
