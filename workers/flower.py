"""Entry point for `celery -A workers.flower flower`: the light app (workers.light) with flower's address, port
and login taken from Pier's settings (PIER_FLOWER_PORT, PIER_FLOWER_PASSWORD). Flower reads its options from
FLOWER_* variables, set here in this process only, so the password is on no command line and no other process's
environment."""
import os

from workers.light import celery, settings

# Tasks flower keeps in memory, the newest (about 2.7 KiB each). flower's own default is 100,000: the periodic
# rounds alone send 23 tasks a minute, so an idle platform's flower grew by 27 MiB every 7 hours, to 270 MiB in
# three days. 1,000 is the last 40 minutes of an idle platform's rounds, more of real work; FLOWER_MAX_TASKS in
# flower's environment sets another number.
MAX_TASKS = 1000
os.environ.setdefault("FLOWER_MAX_TASKS", str(MAX_TASKS))
os.environ.update(FLOWER_ADDRESS="127.0.0.1", FLOWER_PORT=str(settings.flower_port),
                  FLOWER_BASIC_AUTH=f"pier:{settings.flower_password}")

__all__ = ["celery"]
