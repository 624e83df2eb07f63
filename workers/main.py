"""Entry point for `celery -A workers.main worker` (and `inspect`); beat and flower use workers.light."""
from core.app import create_core_app
from workers.celery_app import make_celery

flask_app = create_core_app(name="workers")
celery = make_celery(flask_app)
