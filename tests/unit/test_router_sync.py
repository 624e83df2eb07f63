from router.sync import wait_for_changes


class QueuedMessages:
    """A stand-in for a Redis pubsub holding messages that arrived while the router was busy."""

    def __init__(self, count):
        self.queued, self.timeouts = [{"data": b"app"}] * count, []

    def get_message(self, timeout):
        self.timeouts.append(timeout)
        return self.queued.pop() if self.queued else None


def test_changes_queued_during_a_sync_are_taken_together():
    pubsub = QueuedMessages(50)
    assert wait_for_changes(pubsub, seconds=1.0) == 50
    assert pubsub.queued == [] and pubsub.timeouts[0] == 1.0 and set(pubsub.timeouts[1:]) == {0}


def test_without_a_change_it_waits_the_recheck_interval_once():
    pubsub = QueuedMessages(0)
    assert wait_for_changes(pubsub, seconds=1.0) == 0
    assert pubsub.timeouts == [1.0]
