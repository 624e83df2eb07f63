"""The one place that turns any error into a v2.3-shaped response."""
import logging
import uuid

from flask import jsonify, request
from marshmallow import ValidationError as MarshmallowValidationError
from werkzeug.exceptions import HTTPException

from core.errors import ApiError

log = logging.getLogger("pier.api")


def register_error_handlers(app):
    @app.errorhandler(ApiError)
    def api_error(exc):
        response = jsonify(exc.body())
        response.status_code = exc.status
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = "Token"
        if getattr(exc, "retry_after", None):
            response.headers["Retry-After"] = str(int(exc.retry_after))
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
