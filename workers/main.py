"""Entry point for `celery -A workers.main worker|beat|flower`."""
from api import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
