"""Pier's errors: each carries the HTTP status and body the API answers with, wherever it is raised."""


class ApiError(Exception):
    status = 400

    def __init__(self, detail, status=None):
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status

    def body(self):
        return {"detail": self.detail}


class BadRequest(ApiError):
    status = 400


class NotAuthenticated(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    """A 404's body is the bare JSON string of the message, as in Deis."""
    status = 404

    def body(self):
        return self.detail


class Conflict(ApiError):
    status = 409


class UnprocessableEntity(ApiError):
    status = 422


class TooManyRequests(ApiError):
    """429: a limit of the caller's (a rate, a number of things at once); `retry_after` seconds, if known."""
    status = 429

    def __init__(self, detail, retry_after=None):
        super().__init__(detail)
        self.retry_after = retry_after


class ServiceUnavailable(ApiError):
    status = 503


class ValidationError(ApiError):
    """Field errors: {"field": ["message", ...]}."""
    status = 400

    def __init__(self, messages):
        if isinstance(messages, str):
            messages = {"detail": messages}
        super().__init__(messages)

    def body(self):
        return self.detail


def not_found(model_name):
    return NotFound(f"No {model_name} matches the given query.")
