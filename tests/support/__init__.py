"""Helpers shared by the integration tests."""
import time

FINISHED = ("succeeded", "failed")


def deploy_image(caller, app_id, image="example/web:v1", procfile=None):
    body = {"image": image}
    if procfile is not None:
        body["procfile"] = procfile
    response = caller.post(f"/v2/apps/{app_id}/builds", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def release_list(caller, app_id):
    response = caller.get(f"/v2/apps/{app_id}/releases")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"]


def latest_release(caller, app_id):
    return release_list(caller, app_id)[0]


def wait_for_operation(caller, location, timeout=30.0):
    """Polls an operation URL until the worker finishes it; returns its last body."""
    deadline = time.monotonic() + timeout
    while True:
        response = caller.get(location)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        if body["state"] in FINISHED or time.monotonic() > deadline:
            return body
        time.sleep(0.05)
