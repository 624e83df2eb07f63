"""Entry point for `celery -A workers.flower flower`: the light app (workers.light) with flower's address, port
and login taken from Pier's settings (PIER_FLOWER_PORT, PIER_FLOWER_PASSWORD). Flower reads its options from
FLOWER_* variables, set here in this process only, so the password is on no command line and no other process's
environment."""
import os

from workers.light import celery, settings

os.environ.update(FLOWER_ADDRESS="127.0.0.1", FLOWER_PORT=str(settings.flower_port),
                  FLOWER_BASIC_AUTH=f"pier:{settings.flower_password}")

__all__ = ["celery"]
