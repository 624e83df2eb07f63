"""The Docker log followers (workers/scheduler/docker/logs.py): lines whole across chunks, and the followers of
containers whose log has ended forgotten, so the watcher does not keep one per container it ever followed."""
import threading

from workers.scheduler.docker.logs import Followers, _lines, fixed_stamp


def test_lines_are_whole_however_the_stream_cuts_them():
    assert list(_lines([b"one\ntw", b"o\n", b"thr", b"ee"])) == ["one", "two", "three"]


def test_docker_s_short_fractions_are_padded_to_compare_as_text():
    assert fixed_stamp("2026-12-04T10:00:00.5Z") == "2026-12-04T10:00:00.500000000Z"
    assert fixed_stamp("2026-12-04T10:00:00.5Z") > fixed_stamp("2026-12-04T10:00:00.123456789Z")


def test_the_followers_of_ended_logs_are_forgotten_and_the_others_kept():
    followers, release = Followers(sink=None, resume=None), threading.Event()
    ended, following = threading.Thread(target=lambda: None), threading.Thread(target=release.wait)
    for thread in (ended, following):
        thread.start()
    ended.join()
    followers.by_id = {"ended": ended, "following": following}
    try:
        followers.forget_finished()
        assert list(followers.by_id) == ["following"]
    finally:
        release.set()
        following.join()
