"""Entry point for `celery -A workers.main worker` (and `inspect`), beat included (workers/beat.py); flower uses
workers.light."""
from core.app import process_app
from workers.celery_app import make_celery

flask_app = process_app()
celery = make_celery(flask_app)
