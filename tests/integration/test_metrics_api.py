"""The controller's /metrics: only for the holder of the metrics token, and requests counted by route rule."""
from prometheus_client.parser import text_string_to_metric_families

from tests.support.recording_scheduler import settings_changed

TOKEN = "metrics-token-for-the-test-0123456789"
AUTHORIZED = {"Authorization": f"Bearer {TOKEN}"}


def scrape(client):
    response = client.get("/metrics", headers=AUTHORIZED)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [sample for family in text_string_to_metric_families(response.get_data(as_text=True))
            for sample in family.samples]


def count(samples, **labels):
    return sum(s.value for s in samples if s.name == "pier_api_http_request_duration_seconds_count"
               and all(s.labels.get(k) == v for k, v in labels.items()))


def test_metrics_need_the_token_and_are_off_without_one(app, client):
    with settings_changed(app, metrics_token=TOKEN):
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"}).status_code == 401
        assert client.get("/metrics", headers={"Authorization": f"token {TOKEN}"}).status_code == 401
        assert client.get("/metrics", headers=AUTHORIZED).status_code == 200
    assert client.get("/metrics", headers=AUTHORIZED).status_code == 404


def test_requests_are_counted_by_route_rule_and_status_never_by_path(app, client, alice):
    with settings_changed(app, metrics_token=TOKEN):
        before = scrape(client)
        alice.create_app("metrics-routes")
        for _ in range(3):
            assert alice.get("/v2/apps/metrics-routes").status_code == 200
        assert alice.get("/v2/apps/metrics-nobody").status_code == 404
        assert client.get("/v2/apps/metrics-routes").status_code == 401
        after = scrape(client)
    rule = "/v2/apps/<app_id>"
    assert count(after, method="GET", url_rule=rule, status="200") - count(before, method="GET", url_rule=rule,
                                                                           status="200") == 3
    assert count(after, url_rule=rule, status="404") - count(before, url_rule=rule, status="404") == 1
    assert count(after, url_rule=rule, status="401") - count(before, url_rule=rule, status="401") == 1
    assert count(after, method="POST", url_rule="/v2/apps", status="201") - \
        count(before, method="POST", url_rule="/v2/apps", status="201") == 1
    assert not [s for s in after if any("metrics-routes" in value for value in s.labels.values())]
