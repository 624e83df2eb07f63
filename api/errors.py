"""Pier's exceptions and the one place that turns any error into a v2.3-shaped response."""
import logging
import uuid

from flask import jsonify, request
from marshmallow import ValidationError as MarshmallowValidationError
from werkzeug.exceptions import HTTPException

log = logging.getLogger("pier.api")


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


def register_error_handlers(app):
    @app.errorhandler(ApiError)
    def api_error(exc):
        response = jsonify(exc.body())
        response.status_code = exc.status
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = "Token"
        return response

    @app.errorhandler(MarshmallowValidationError)
    def validation_error(exc):
        messages = exc.messages if isinstance(exc.messages, dict) else {"detail": exc.messages}
        return jsonify(messages), 400

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if exc.code == 404:
            return jsonify("Not found."), 404
        return jsonify({"detail": exc.description or exc.name}), exc.code

    @app.errorhandler(Exception)
    def server_error(exc):
        request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
        log.exception("unhandled error in %s %s (request id %s)", request.method, request.path, request_id)
        response = jsonify({"detail": "Server Error", "request_id": request_id})
        response.status_code = 500
        return response
