"""Errors gunicorn answers itself, before Flask sees the request (a request line over 4 KiB, a malformed
header), in the API's JSON shape rather than gunicorn's HTML page."""
import json

from gunicorn import util


def write_json_error(sock, status_int, reason, mesg):
    body = json.dumps({"detail": f"{reason}: {mesg}" if mesg else reason}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin1")
    util.write_nonblock(sock, head + body)


def install():
    """gunicorn's workers answer through util.write_error: from now on, in JSON."""
    util.write_error = write_json_error
