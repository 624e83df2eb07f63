"""What garbage collection keeps of an app's builds (core.retention), and which images are Pier's to delete."""
import pytest

from core.images import own_tag
from core.retention import ReleaseFacts, kept_builds


def history(*entries):
    """entries: (build, state) for v2, v3, ...; v1 is the app's first release, without a build."""
    return [ReleaseFacts(1, None, "superseded", False)] + [
        ReleaseFacts(version, build, state, state == "failed") for version, (build, state) in enumerate(entries, 2)]


def test_the_newest_releases_keep_their_builds_config_changes_counting_as_releases():
    # v2..v13 deploy b2..b13; v14 and v15 change config only, so they keep b13 again and count as two
    releases = history(*[(f"b{v}", "superseded") for v in range(2, 14)], ("b13", "superseded"), ("b13", "deployed"))
    assert kept_builds(releases, 10) == {f"b{v}" for v in range(6, 14)}


def test_the_running_release_and_the_newest_good_one_are_kept_past_the_window():
    releases = history(("b2", "superseded"), ("b3", "deployed"), *[(f"f{v}", "failed") for v in range(4, 8)])
    assert kept_builds(releases, 3) == {"f5", "f6", "f7", "b3"}


def test_the_release_a_plain_rollback_picks_is_kept():
    releases = history(("b2", "superseded"), ("b3", "superseded"), ("b4", "deployed"))
    assert kept_builds(releases, 1) == {"b4", "b3"}


def test_an_app_without_builds_keeps_nothing():
    assert kept_builds(history(), 10) == set()
    assert kept_builds([], 10) == set()


@pytest.mark.parametrize("reference, tag", [
    ("127.0.0.1:5000/web:git-1a2b3c4d", "git-1a2b3c4d"),
    ("localhost:5000/web:v2", "v2"),
    ("127.0.0.1:5000/web", "latest"),
    ("127.0.0.1:5000/web@sha256:" + "a" * 64, "sha256:" + "a" * 64),
    ("127.0.0.1:5000/webshop:git-1a2b3c4d", None),       # another app's repository
    ("127.0.0.1:5000/team/web:git-1a2b3c4d", None),
    ("registry.example.com/web:git-1a2b3c4d", None),     # not Pier's registry
    ("127.0.0.1:5001/web:git-1a2b3c4d", None),
    ("web:git-1a2b3c4d", None),                          # Docker Hub
])
def test_only_images_of_the_apps_own_repository_in_piers_registry_are_collected(reference, tag):
    assert own_tag(reference, "web", "127.0.0.1:5000") == tag
