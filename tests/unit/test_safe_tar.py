import io
import os
import stat
import tarfile

import pytest

from workers.safe_tar import UnsafeArchive, extract, pack


def tarball(*members, compression="gz"):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=f"w:{compression}" if compression else "w") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    buffer.seek(0)
    return buffer


def file(name, data=b"content", mode=0o644):
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    return info, data


def link(name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, b""


def special(name, kind):
    info = tarfile.TarInfo(name)
    info.type, info.devmajor, info.devminor = kind, 1, 3
    return info, b""


@pytest.fixture
def dest(tmp_path):
    return tmp_path / "sandbox" / "dest"


def refused(archive, dest, match, **limits):
    with pytest.raises(UnsafeArchive, match=match):
        extract(archive, dest, **limits)
    assert not dest.exists(), "a destination extract created must be removed on refusal"


def test_absolute_paths_are_refused(dest):
    refused(tarball(file("ok.txt"), file("/tmp/pier-evil")), dest, "/tmp/pier-evil")
    assert not os.path.exists("/tmp/pier-evil")


@pytest.mark.parametrize("name", ["../x", "a/../../x", "./../x"])
def test_dot_dot_is_refused(dest, name):
    refused(tarball(file(name)), dest, "'..'")
    assert not (dest.parent / "x").exists()


def test_symlink_out_and_a_file_through_it_is_refused(dest):
    refused(tarball(link("etc", "/etc"), file("etc/pier-evil")), dest, "etc: symlink to the absolute")
    refused(tarball(link("up", "../../../../etc"), file("up/pier-evil")), dest, "up: symlink to ../")
    assert not os.path.exists("/etc/pier-evil")


def test_a_symlink_made_to_point_out_by_a_later_member_is_caught(dest):
    # "d" -> "sub/.." looks like dest itself while sub is missing; once sub -> "." it is dest's parent.
    refused(tarball(link("d", "sub/.."), link("sub", "."), file("d/escaped")), dest, "d/escaped: would land outside")
    assert not (dest.parent / "escaped").exists()
    refused(tarball(link("d", "sub/.."), link("sub", ".")), dest, "d: symlink points outside")


@pytest.mark.parametrize("target", ["/etc/passwd", "../outside", "never-extracted"])
def test_hardlinks_out_or_to_missing_members_are_refused(dest, target):
    refused(tarball(file("ok.txt"), link("pw", target, tarfile.LNKTYPE)), dest, f"pw: hardlink to {target}")


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_devices_and_fifos_are_refused(dest, kind):
    refused(tarball(special("dev/null", kind)), dest, "dev/null: devices")


def test_a_bomb_over_the_size_cap_is_refused_before_it_is_written(dest):
    bomb = tarball(file("zeros", b"\0" * (40 * 1024 * 1024)))
    assert len(bomb.getvalue()) < 200 * 1024  # 40 MiB of zeros compresses to almost nothing
    refused(bomb, dest, "zeros: the archive unpacks to more than", max_bytes=10 * 1024 * 1024)


def test_too_many_members_are_refused(dest):
    members = [file(f"f{n}", b"") for n in range(11)]
    refused(tarball(*members), dest, "more than 10 members", max_members=10)
    extract(tarball(*members[:10]), dest, max_members=10)
    assert len(os.listdir(dest)) == 10


def test_a_huge_extended_header_is_refused_before_it_is_read_into_memory(dest):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("x")
        info.pax_headers = {"comment": "y" * (2 * 1024 * 1024)}
        tar.addfile(info, io.BytesIO(b""))
    buffer.seek(0)
    refused(buffer, dest, "extended header")


def test_setuid_and_setgid_bits_are_stripped(dest):
    extract(tarball(file("su", b"#!/bin/sh\n", 0o4755), file("sg", b"#!/bin/sh\n", 0o2775)), dest)
    for name in ("su", "sg"):
        mode = stat.S_IMODE(os.stat(dest / name).st_mode)
        assert mode & 0o7000 == 0 and mode & 0o022 == 0
        assert mode & 0o100, "the executable bit is kept"


def test_a_later_member_replaces_a_symlink_instead_of_writing_through_it(dest):
    extract(tarball(file("b", b"original"), link("a", "b"), file("a", b"new")), dest)
    assert (dest / "b").read_bytes() == b"original"
    assert not (dest / "a").is_symlink() and (dest / "a").read_bytes() == b"new"


def test_not_a_tarball_is_refused(dest):
    refused(io.BytesIO(b"this is not a tarball" * 100), dest, "not a readable tarball")


def test_a_destination_that_existed_is_kept_on_refusal(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(UnsafeArchive):
        extract(tarball(file("new.txt"), file("../x")), tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_plain_tar_from_a_path_with_a_dot_root_entry(tmp_path, dest):
    root = tarfile.TarInfo("./")
    root.type = tarfile.DIRTYPE
    archive = tmp_path / "plain.tar"
    archive.write_bytes(tarball((root, b""), file("./app/web.py", b"print(1)"), compression=None).getvalue())
    extract(archive, dest)
    assert (dest / "app" / "web.py").read_bytes() == b"print(1)"


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "tree"
    (root / "app" / "lib").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "Procfile").write_text("web: python app/web.py\n")
    (root / "app" / "web.py").write_text("print('hi')\n")
    (root / "bin.sh").write_text("#!/bin/sh\n")
    (root / "bin.sh").chmod(0o755)
    (root / "app" / "lib" / "data.bin").write_bytes(os.urandom(100_000))
    os.symlink("lib/data.bin", root / "app" / "current")
    os.symlink("app/lib", root / "libs")
    os.link(root / "Procfile", root / "Procfile.copy")
    return root


def test_pack_then_extract_round_trips_a_tree_with_links(tree, tmp_path, dest):
    archive = tmp_path / "slug.tgz"
    pack(tree, archive)
    extract(archive, dest)
    assert (dest / "app" / "lib" / "data.bin").read_bytes() == (tree / "app" / "lib" / "data.bin").read_bytes()
    assert (dest / "Procfile").read_text() == "web: python app/web.py\n"
    assert os.readlink(dest / "app" / "current") == "lib/data.bin"
    assert os.readlink(dest / "libs") == "app/lib"
    assert (dest / "libs" / "data.bin").read_bytes() == (tree / "app" / "lib" / "data.bin").read_bytes()
    assert os.stat(dest / "Procfile.copy").st_ino == os.stat(dest / "Procfile").st_ino
    assert (dest / "empty").is_dir()
    assert os.stat(dest / "bin.sh").st_mode & 0o100


def test_pack_is_relative_sorted_and_deterministic(tree, tmp_path):
    first, second = io.BytesIO(), io.BytesIO()
    pack(tree, first, prefix="app", uid=1000, gid=1001)
    pack(tree, second, prefix="app", uid=1000, gid=1001)
    assert first.getvalue() == second.getvalue()
    first.seek(0)
    with tarfile.open(fileobj=first, mode="r:gz") as tar:
        members = tar.getmembers()
    names = [member.name for member in members]
    assert names[:5] == ["app", "app/Procfile", "app/Procfile.copy", "app/app", "app/bin.sh"]
    assert all(name == "app" or name.startswith("app/") for name in names)
    assert {(member.uid, member.gid, member.uname) for member in members} == {(1000, 1001, "")}
    symlinks = {member.name: member.linkname for member in members if member.issym()}
    assert symlinks == {"app/libs": "app/lib", "app/app/current": "lib/data.bin"}


def test_pack_without_prefix_has_no_root_entry(tree):
    buffer = io.BytesIO()
    pack(tree, buffer)
    buffer.seek(0)
    with tarfile.open(fileobj=buffer, mode="r:gz") as tar:
        names = tar.getnames()
    assert "Procfile" in names and "app/web.py" in names
    assert not any(name in ("", ".", "./") or name.startswith("/") for name in names)
