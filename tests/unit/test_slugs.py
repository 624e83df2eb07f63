"""slug.tgz in two gzip members: the dependencies' part, kept by fingerprint, then the rest of the slug."""
import os
import subprocess
import tarfile
import time

from workers.build import slugs
from workers.safe_tar import pack


def slug_tree(root, version="1"):
    (root / ".venv" / "lib").mkdir(parents=True)
    (root / ".venv" / "lib" / "six.py").write_text(f"six {version}\n" * 1000)
    os.symlink("/usr/bin/python3", root / ".venv" / "python3")
    (root / "app.py").write_text("print('hello')\n")
    (root / "Procfile").write_text("web: python3 app.py\n")
    return root


def listing(path):
    with tarfile.open(path, "r:gz") as tar:
        return {member.name: (tar.extractfile(member).read() if member.isreg() else member.linkname or None)
                for member in tar.getmembers()}


def test_the_slug_reads_as_one_tarball_of_the_whole_tree(tmp_path):
    tree = slug_tree(tmp_path / "slug")
    whole, parts = tmp_path / "whole.tgz", tmp_path / "parts.tgz"
    pack(tree, whole)
    assert not slugs.pack(tmp_path / "cache", tree, parts, [".venv"], "key1")
    assert listing(parts) == listing(whole)
    assert sorted(listing(parts)) == [".venv", ".venv/lib", ".venv/lib/six.py", ".venv/python3", "Procfile",
                                      "app.py"]
    assert listing(parts)[".venv/python3"] == "/usr/bin/python3"
    extracted = tmp_path / "out"
    extracted.mkdir()
    subprocess.run(["tar", "-xzf", str(parts), "-C", str(extracted)], check=True)  # as slugrunner read slugs
    assert (extracted / ".venv" / "lib" / "six.py").read_text() == "six 1\n" * 1000
    assert (extracted / "app.py").read_text() == "print('hello')\n"


def test_unchanged_dependencies_reuse_their_compressed_part(tmp_path):
    cache = tmp_path / "cache"
    first = slug_tree(tmp_path / "first")
    assert not slugs.pack(cache, first, tmp_path / "1.tgz", [".venv"], "key1")
    [part] = list((cache / slugs.PARTS).iterdir())
    made = part.stat().st_ino
    second = slug_tree(tmp_path / "second")
    (second / "app.py").write_text("print('changed')\n")
    assert slugs.pack(cache, second, tmp_path / "2.tgz", [".venv"], "key1")
    assert part.stat().st_ino == made, "the part was written again"
    head = part.read_bytes()
    assert (tmp_path / "2.tgz").read_bytes().startswith(head)
    assert listing(tmp_path / "2.tgz")["app.py"] == b"print('changed')\n"

    third = slug_tree(tmp_path / "third", version="2")
    assert not slugs.pack(cache, third, tmp_path / "3.tgz", [".venv"], "key2")
    assert listing(tmp_path / "3.tgz")[".venv/lib/six.py"] == b"six 2\n" * 1000


def test_a_slug_without_dependencies_is_one_tarball(tmp_path):
    tree = tmp_path / "static"
    tree.mkdir()
    (tree / "index.html").write_text("<h1>hi</h1>")
    assert not slugs.pack(tmp_path / "cache", tree, tmp_path / "s.tgz", [], None)
    assert listing(tmp_path / "s.tgz") == {"index.html": b"<h1>hi</h1>"}
    assert not (tmp_path / "cache").exists()


def test_parts_unused_for_a_week_are_removed(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    old, recent = folder / "old.tgz", folder / "recent.tgz"
    old.write_bytes(b"x")
    recent.write_bytes(b"y")
    long_ago = time.time() - slugs.PART_DAYS * 86400 - 60
    os.utime(old, (long_ago, long_ago))
    slugs.forget_old(folder)
    assert not old.exists() and recent.exists()
