"""Apps' recent output, kept in Redis streams so that it outlives the containers that printed it.

`pier:logs:<app id>` is a stream of {"t": ISO 8601 UTC time, "s": source (the pod's name), "m": the line}.
The watcher appends every line the app's processes print; the API reads the tail and follows new entries
with a blocking read, never asking the scheduler. Each stream is capped (MAX_LINES entries of at most
MAX_LINE_BYTES each, so about 10 MiB per app).
"""

from core import redis_client

MAX_LINES = 10000
MAX_LINE_BYTES = 1024
STAMP_LENGTH = len("2026-01-01T00:00:00.000000")


CURSORS = "pier:logs:cursors"  # pod name -> time of the last line taken from it, as its backend wrote it


def stream_key(app_id):
    return f"pier:logs:{app_id}"


def normalize_stamp(stamp):
    """'2026-11-25T19:05:01.123456789Z' (Docker, nanoseconds) or '...01Z' -> '2026-11-25T19:05:01.123456Z',
    so that lines of every source sort by time as text."""
    stamp = stamp.rstrip("Z")
    whole, _, fraction = stamp.partition(".")
    return f"{whole}.{(fraction + '000000')[:6]}Z"


def clip(text):
    data = text.encode("utf-8", "replace")
    if len(data) <= MAX_LINE_BYTES:
        return text
    return data[:MAX_LINE_BYTES - 3].decode("utf-8", "ignore") + "..."


class LogStore:
    def __init__(self, redis_url):
        self.redis = redis_client.client(redis_url, decode_responses=True)

    def append(self, app_id, source, stamp, text):
        """One line; `stamp` is also remembered as the source's cursor (see `last_stamp`)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.xadd(stream_key(app_id), {"t": normalize_stamp(stamp), "s": source, "m": clip(text)},
                  maxlen=MAX_LINES, approximate=True)
        pipe.hset(CURSORS, source, stamp)
        pipe.execute()

    def last_stamp(self, source):
        """The stamp of the last line appended from `source`, or None: where a collector resumes."""
        return self.redis.hget(CURSORS, source)

    def tail(self, app_id, lines):
        """The last `lines` entries as (stamp, source, text), oldest first, and the id to follow from."""
        rows = self.redis.xrevrange(stream_key(app_id), count=lines)
        last_id = rows[0][0] if rows else "0-0"
        return [(f["t"], f["s"], f["m"]) for _, f in reversed(rows)], last_id

    def follow(self, app_id, after_id, block_seconds):
        """Entries newer than `after_id`, waiting up to `block_seconds` for the first; and the new cursor."""
        answer = self.redis.xread({stream_key(app_id): after_id}, block=int(block_seconds * 1000), count=1000)
        if not answer:
            return [], after_id
        rows = answer[0][1]
        return [(f["t"], f["s"], f["m"]) for _, f in rows], rows[-1][0]

    def forget(self, app_id, sources=()):
        self.redis.delete(stream_key(app_id))
        if sources:
            self.redis.hdel(CURSORS, *sources)
