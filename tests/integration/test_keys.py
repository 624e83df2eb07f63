"""SSH keys: real keys from ssh-keygen, fingerprints compared with what OpenSSH prints."""
import subprocess

import pytest


def ssh_key(directory, name, kind="ed25519", comment=None):
    """Generates a key pair with ssh-keygen; returns (public key line, path of the .pub file)."""
    path = directory / name
    args = ["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", str(path), "-C", comment or f"{name}@test"]
    if kind == "rsa":
        args[4:4] = ["-b", "2048"]
    subprocess.run(args, check=True, capture_output=True)
    pub = path.with_name(name + ".pub")
    return pub.read_text().strip(), pub


def openssh_fingerprint(pub, digest="sha256"):
    """The fingerprint field of `ssh-keygen -lf pub -E digest`, e.g. 'SHA256:…' or 'MD5:aa:bb:…'."""
    output = subprocess.run(["ssh-keygen", "-lf", str(pub), "-E", digest], check=True, capture_output=True,
                            text=True).stdout
    return output.split()[1]


@pytest.mark.parametrize("kind", ["ed25519", "rsa"])
def test_add_a_key_fingerprinted_as_openssh_does(alice, tmp_path, kind):
    public, pub = ssh_key(tmp_path, "laptop", kind, comment="alice@laptop")
    response = alice.post("/v2/keys", {"id": "alice@laptop", "public": public})
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"uuid", "id", "owner", "public", "fingerprint", "created", "updated"}
    assert body["id"] == "alice@laptop" and body["owner"] == "alice" and body["public"] == public
    assert body["fingerprint"].startswith("SHA256:")
    assert body["fingerprint"] == openssh_fingerprint(pub)


def test_the_same_public_key_cannot_be_added_twice(alice, bob, tmp_path):
    public, _ = ssh_key(tmp_path, "shared")
    assert alice.post("/v2/keys", {"id": "one", "public": public}).status_code == 201
    for caller, key_id in ((alice, "two"), (bob, "one")):
        response = caller.post("/v2/keys", {"id": key_id, "public": public})
        assert response.status_code == 400
        assert response.get_json() == {"public": ["Key with this public already exists."]}
    assert bob.get("/v2/keys").get_json()["count"] == 0


def test_the_same_key_with_another_comment_is_still_a_duplicate(alice, tmp_path):
    public, _ = ssh_key(tmp_path, "k")
    kind, blob = public.split()[:2]
    assert alice.post("/v2/keys", {"id": "one", "public": public}).status_code == 201
    response = alice.post("/v2/keys", {"id": "two", "public": f"{kind} {blob} other@host"})
    assert response.status_code == 400 and response.get_json() == {"public": ["Key with this public already exists."]}


@pytest.mark.parametrize("public", ["not a key", "ssh-ed25519", "ssh-ed25519 AAAA!!!notbase64 x@y", "",
                                    "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIBp6Z0y6hCxBQ+6kyYBOWJ6dXxnTw5bHV2M3yVMxWFc1"])
def test_garbage_public_keys_are_refused(alice, public):
    response = alice.post("/v2/keys", {"id": "bad", "public": public})
    assert response.status_code == 400 and response.get_json()["public"]
    assert alice.get("/v2/keys").get_json()["count"] == 0


@pytest.mark.parametrize("key_id", ["has space", "", "slash/no", "x" * 129])
def test_invalid_key_ids_are_refused(alice, tmp_path, key_id):
    public, _ = ssh_key(tmp_path, "k")
    response = alice.post("/v2/keys", {"id": key_id, "public": public})
    assert response.status_code == 400 and response.get_json()["id"]


def test_missing_fields_are_refused(alice):
    response = alice.post("/v2/keys", {})
    assert response.status_code == 400 and set(response.get_json()) == {"id", "public"}


def test_a_key_name_is_unique_per_user(alice, bob, tmp_path):
    first, _ = ssh_key(tmp_path, "a")
    second, _ = ssh_key(tmp_path, "b")
    third, _ = ssh_key(tmp_path, "c")
    assert alice.post("/v2/keys", {"id": "laptop", "public": first}).status_code == 201
    response = alice.post("/v2/keys", {"id": "laptop", "public": second})
    assert response.status_code == 400 and response.get_json()["id"]
    assert bob.post("/v2/keys", {"id": "laptop", "public": third}).status_code == 201


def test_list_is_paginated_and_shows_only_own_keys(alice, bob, tmp_path):
    for name in ("k1", "k2", "k3"):
        public, _ = ssh_key(tmp_path, name)
        assert alice.post("/v2/keys", {"id": name, "public": public}).status_code == 201
    bobs, _ = ssh_key(tmp_path, "bobs")
    assert bob.post("/v2/keys", {"id": "bobs", "public": bobs}).status_code == 201

    listing = alice.get("/v2/keys")
    assert listing.status_code == 200
    body = listing.get_json()
    assert body["count"] == 3 and body["next"] is None and body["previous"] is None
    assert [k["id"] for k in body["results"]] == ["k1", "k2", "k3"]
    assert {k["owner"] for k in body["results"]} == {"alice"}

    page = alice.get("/v2/keys?limit=2&offset=1").get_json()
    assert [k["id"] for k in page["results"]] == ["k2", "k3"]
    assert page["next"] is None and page["previous"] is not None
    assert [k["id"] for k in bob.get("/v2/keys").get_json()["results"]] == ["bobs"]


def test_show_and_delete_own_key(alice, tmp_path):
    public, pub = ssh_key(tmp_path, "k")
    added = alice.post("/v2/keys", {"id": "alice@work.local", "public": public}).get_json()
    shown = alice.get("/v2/keys/alice@work.local")
    assert shown.status_code == 200 and shown.get_json() == added
    assert shown.get_json()["fingerprint"] == openssh_fingerprint(pub)
    assert alice.delete("/v2/keys/alice@work.local").status_code == 204
    assert alice.get("/v2/keys/alice@work.local").status_code == 404
    assert alice.get("/v2/keys").get_json()["count"] == 0
    assert alice.post("/v2/keys", {"id": "again", "public": public}).status_code == 201


def test_another_users_key_is_not_found(alice, bob, tmp_path):
    public, _ = ssh_key(tmp_path, "k")
    assert bob.post("/v2/keys", {"id": "bobs", "public": public}).status_code == 201
    shown = alice.get("/v2/keys/bobs")
    assert shown.status_code == 404 and isinstance(shown.get_json(), str)
    assert alice.delete("/v2/keys/bobs").status_code == 404
    assert bob.get("/v2/keys/bobs").status_code == 200


def test_keys_need_a_token(client):
    assert client.get("/v2/keys").status_code == 401
    assert client.post("/v2/keys", json={"id": "x", "public": "y"}).status_code == 401
