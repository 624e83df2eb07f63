def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.data == b"OK"


def test_create_and_list_app(alice):
    alice.create_app("hello")
    body = alice.get("/v2/apps").get_json()
    assert body["count"] == 1 and body["results"][0]["id"] == "hello"
