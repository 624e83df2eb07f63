"""The v2 blueprint every view attaches its routes to: a token (or the builder key) on every route."""
from flask import Blueprint

from api.auth import authenticate_request
from api.http import refuse_nul_in_url

v2 = Blueprint("v2", __name__, url_prefix="/v2")
v2.before_request(refuse_nul_in_url)
v2.before_request(authenticate_request)
