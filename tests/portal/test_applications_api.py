"""REST API for applications: /api/am/devportal/v3/applications[/{applicationId}]."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keys.models import ApplicationKey, KeyType
from portal.models import Application, AuditEvent
from tests.portal.conftest import API, RecordingAdapter

pytestmark = pytest.mark.django_db

APPS = f"{API}/applications"


def post_json(client, url, data, **extra):
    return client.post(url, json.dumps(data), content_type="application/json", **extra)


def put_json(client, url, data, **extra):
    return client.put(url, json.dumps(data), content_type="application/json", **extra)


def assert_error(response, status: int, message: str, description_part: str = ""):
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == status
    assert body["message"] == message
    assert description_part in body["description"]
    return body


# -- access ---------------------------------------------------------------------------------------


def test_anonymous_calls_get_401_with_a_bearer_challenge(anonymous_client, application):
    for response in (
        anonymous_client.get(APPS),
        post_json(anonymous_client, APPS, {"name": "x"}),
        anonymous_client.get(f"{APPS}/{application.pk}"),
        put_json(anonymous_client, f"{APPS}/{application.pk}", {"name": "x"}),
        anonymous_client.delete(f"{APPS}/{application.pk}"),
    ):
        assert_error(response, 401, "Unauthorized", "Authentication credentials were not provided")
        assert response["WWW-Authenticate"] == "Bearer"
    assert Application.objects.get().name == "Weather App"


def test_another_developers_application_is_a_404_for_every_method(other_client, application):
    url = f"{APPS}/{application.pk}"
    assert_error(other_client.get(url), 404, "Not Found")
    assert_error(put_json(other_client, url, {"name": "Hijacked"}), 404, "Not Found")
    assert_error(other_client.delete(url), 404, "Not Found")
    application.refresh_from_db()
    assert application.name == "Weather App"


def test_the_list_never_shows_another_developers_applications(other_client, application):
    body = other_client.get(APPS).json()
    assert body["count"] == 0 and body["list"] == [] and body["pagination"]["total"] == 0


def test_an_unknown_or_malformed_application_id_is_a_json_404(owner_client):
    assert_error(owner_client.get(f"{APPS}/{uuid.uuid4()}"), 404, "Not Found")
    assert_error(owner_client.get(f"{APPS}/not-a-uuid"), 404, "Not Found")


def test_an_unknown_api_url_is_a_json_404(owner_client, anonymous_client):
    assert_error(owner_client.get(f"{API}/no-such-thing"), 404, "Not Found", f"{API}/no-such-thing")
    assert_error(anonymous_client.get(f"{API}/no/such/thing"), 404, "Not Found")


def test_session_writes_need_the_csrf_token(csrf_owner_client, application):
    body = assert_error(post_json(csrf_owner_client, APPS, {"name": "New"}), 403, "Forbidden", "CSRF")
    assert "CSRF" in body["description"]
    assert_error(put_json(csrf_owner_client, f"{APPS}/{application.pk}", {"name": "New"}), 403, "Forbidden")
    assert_error(csrf_owner_client.delete(f"{APPS}/{application.pk}"), 403, "Forbidden")
    assert list(Application.objects.values_list("name", flat=True)) == ["Weather App"]


def test_session_reads_do_not_need_the_csrf_token(csrf_owner_client, application):
    assert csrf_owner_client.get(APPS).status_code == 200


def test_session_writes_with_the_csrf_token_work(csrf_owner_client):
    csrf_owner_client.get("/applications/")  # the page sets the CSRF cookie, as in a browser
    token = csrf_owner_client.cookies["csrftoken"].value
    response = post_json(csrf_owner_client, APPS, {"name": "From the browser"}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201


def test_an_unsupported_method_is_a_json_405(owner_client):
    assert_error(owner_client.patch(APPS, "{}", content_type="application/json"), 405, "Method Not Allowed")


# -- create ---------------------------------------------------------------------------------------


def test_creating_returns_201_with_the_application(owner_client, owner):
    response = post_json(
        owner_client, APPS, {"name": "  Weather  ", "description": "Forecasts", "tokenType": "OAUTH"}
    )
    assert response.status_code == 201
    body = response.json()
    application = Application.objects.get(owner=owner)
    assert body == {
        "applicationId": str(application.pk),
        "name": "Weather",
        "throttlingPolicy": "Unlimited",
        "description": "Forecasts",
        "tokenType": "OAUTH",
        "status": "APPROVED",
        "owner": "alice",
        "keys": [],
        "attributes": {},
        "groups": [],
        "subscriptionCount": 0,
        "subscriptionScopes": [],
        "hashEnabled": False,
        "createdTime": body["createdTime"],
        "updatedTime": body["updatedTime"],
    }
    # The reference's format: epoch milliseconds in a string.
    assert body["createdTime"] == str(int(application.created_at.timestamp() * 1000))
    assert response["Location"] == f"http://testserver{APPS}/{application.pk}"
    assert AuditEvent.objects.filter(action="application.create", application_id=application.pk).exists()


def test_creating_defaults_to_jwt_and_the_unlimited_throttling_policy(owner_client, owner):
    body = post_json(owner_client, APPS, {"name": "Gold"}).json()
    assert body["tokenType"] == "JWT"
    assert body["throttlingPolicy"] == "Unlimited"
    assert Application.objects.get(owner=owner).throttling_policy == "Unlimited"


def test_a_throttling_policy_the_portal_does_not_apply_is_a_400(owner_client, owner):
    # The portal throttles no traffic: a policy such as the reference's 10PerMin would be stored and ignored.
    body = assert_error(
        post_json(owner_client, APPS, {"name": "Gold", "throttlingPolicy": "10PerMin"}), 400, "Bad Request"
    )
    assert "Unknown throttling policy “10PerMin”: use Unlimited" in body["description"]
    assert not Application.objects.exists()


def test_a_duplicate_name_is_a_409_even_in_another_case(owner_client, application):
    response = post_json(owner_client, APPS, {"name": "WEATHER app"})
    assert_error(response, 409, "Conflict", "An application named 'WEATHER app' already exists")
    assert Application.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field_message"),
    [
        ({}, "name: This field is required."),
        ({"name": ""}, "name: This field may not be blank."),
        ({"name": "   "}, "name: This field may not be blank."),
        ({"name": "x" * 71}, "name: The name can have at most 70 characters (it has 71)."),
        ({"name": "ok", "description": "d" * 1025}, "description: Ensure this field has no more than 1024"),
        ({"name": "ok", "tokenType": "SAML"}, 'tokenType: "SAML" is not a valid choice.'),
        ({"name": "ok", "throttlingPolicy": "p" * 65}, "throttlingPolicy: Unknown throttling policy"),
        ({"name": ["a list"]}, "name: Not a valid string."),
    ],
)
def test_bad_input_is_a_400_naming_the_field(owner_client, data, field_message):
    body = assert_error(post_json(owner_client, APPS, data), 400, "Bad Request", field_message)
    assert any(item["message"].startswith(field_message) for item in body["error"])
    assert Application.objects.count() == 0


def test_a_body_that_is_not_json_is_a_400(owner_client):
    response = owner_client.post(APPS, "{not json", content_type="application/json")
    assert_error(response, 400, "Bad Request", "JSON parse error")


def test_a_body_in_another_format_is_a_415(owner_client):
    response = owner_client.post(APPS, {"name": "Form post"})
    assert_error(response, 415, "Unsupported Media Type")


# -- read, update, delete -------------------------------------------------------------------------


def test_getting_an_application_includes_its_keys(owner_client, application, make_key):
    key = make_key(application, consumer_key="ck-123")
    body = owner_client.get(f"{APPS}/{application.pk}").json()
    assert body["applicationId"] == str(application.pk)
    assert body["keys"] == [
        {
            "keyMappingId": str(key.pk),
            "keyManager": "remote-idp",
            "keyType": "PRODUCTION",
            "consumerKey": "ck-123",
            "supportedGrantTypes": ["client_credentials"],
            "callbackUrl": "",
            "keyState": "COMPLETED",
            "mode": "CREATED",
        }
    ]


def test_put_replaces_the_editable_fields(owner_client, application):
    response = put_json(
        owner_client,
        f"{APPS}/{application.pk}",
        {"name": "Weather 2", "description": "New", "tokenType": "OAUTH", "throttlingPolicy": "Unlimited"},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["description"], body["tokenType"], body["throttlingPolicy"]) == (
        "Weather 2",
        "New",
        "OAUTH",
        "Unlimited",
    )
    application.refresh_from_db()
    assert (application.name, application.description, application.token_type) == (
        "Weather 2",
        "New",
        "OAUTH",
    )


def test_put_resets_left_out_fields_to_their_defaults(owner_client, owner, make_application):
    application = make_application(
        owner, "Opaque", description="d", token_type="OAUTH", throttling_policy="Gold"
    )
    body = put_json(owner_client, f"{APPS}/{application.pk}", {"name": "Opaque"}).json()
    assert (body["description"], body["tokenType"], body["throttlingPolicy"]) == ("", "JWT", "Unlimited")


def test_put_needs_a_name(owner_client, application):
    assert_error(put_json(owner_client, f"{APPS}/{application.pk}", {}), 400, "Bad Request", "name:")
    application.refresh_from_db()
    assert application.name == "Weather App"


def test_put_onto_another_of_my_names_is_a_409(owner_client, owner, application, make_application):
    make_application(owner, "Payments")
    response = put_json(owner_client, f"{APPS}/{application.pk}", {"name": "payments"})
    assert_error(response, 409, "Conflict", "An application named 'payments' already exists")
    application.refresh_from_db()
    assert application.name == "Weather App"


def test_deleting_answers_200_and_removes_the_clients_at_the_key_managers(
    owner_client, application, make_key
):
    key = make_key(application, consumer_key="ck-gone")
    response = owner_client.delete(f"{APPS}/{application.pk}")
    assert response.status_code == 200  # the reference's status for a delete
    assert response.content == b""
    assert not Application.objects.filter(pk=application.pk).exists()
    assert not ApplicationKey.objects.filter(pk=key.pk).exists()
    assert RecordingAdapter.deleted == ["ck-gone"]


def test_a_failing_key_manager_makes_delete_a_502_and_keeps_everything(owner_client, application, make_key):
    RecordingAdapter.fail = True
    key = make_key(application)
    response = owner_client.delete(f"{APPS}/{application.pk}")
    assert_error(response, 502, "Bad Gateway", "Remote IdP: delete client failed: connection refused")
    assert Application.objects.filter(pk=application.pk).exists()
    assert ApplicationKey.objects.filter(pk=key.pk).exists()


# -- list: pagination, search, sorting, query count --------------------------------------------------


def test_the_list_has_the_reference_shape(owner_client, application):
    body = owner_client.get(APPS).json()
    assert body["count"] == 1
    assert body["list"][0]["applicationId"] == str(application.pk)
    assert body["pagination"] == {"offset": 0, "limit": 25, "total": 1, "next": "", "previous": ""}


def test_the_list_is_paginated_with_limit_and_offset(owner_client, owner, make_application):
    for i in range(7):
        make_application(owner, f"App {i}")
    body = owner_client.get(APPS, {"limit": 3, "offset": 3}).json()
    assert [a["name"] for a in body["list"]] == ["App 3", "App 4", "App 5"]
    assert body["count"] == 3
    pagination = body["pagination"]
    assert (pagination["offset"], pagination["limit"], pagination["total"]) == (3, 3, 7)
    # Relative to the base path, as the reference's links are.
    assert pagination["next"] == "/applications?limit=3&offset=6&query=&sortBy=name&sortOrder=asc"
    assert pagination["previous"] == "/applications?limit=3&offset=0&query=&sortBy=name&sortOrder=asc"
    last = owner_client.get(API + pagination["next"]).json()
    assert [a["name"] for a in last["list"]] == ["App 6"]
    assert last["pagination"]["next"] == ""


def test_the_default_page_is_25_and_the_maximum_100(owner_client, owner, make_application):
    for i in range(30):
        make_application(owner, f"App {i:02d}")
    assert owner_client.get(APPS).json()["count"] == 25
    assert owner_client.get(APPS, {"limit": 100}).json()["count"] == 30


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": 101}, "limit: Ensure this value is less than or equal to 100."),
        ({"limit": 0}, "limit: Ensure this value is greater than or equal to 1."),
        ({"limit": "many"}, "limit: A valid integer is required."),
        ({"offset": -1}, "offset: Ensure this value is greater than or equal to 0."),
        ({"sortBy": "owner"}, 'sortBy: "owner" is not a valid choice.'),
        ({"sortOrder": "up"}, 'sortOrder: "up" is not a valid choice.'),
    ],
)
def test_bad_list_parameters_are_a_400(owner_client, params, message):
    assert_error(owner_client.get(APPS, params), 400, "Bad Request", message)


def test_the_query_searches_names_without_case(owner_client, owner, make_application):
    make_application(owner, "Weather App")
    make_application(owner, "Payments")
    body = owner_client.get(APPS, {"query": "WEATHER"}).json()
    assert [a["name"] for a in body["list"]] == ["Weather App"]
    assert body["pagination"]["total"] == 1


def test_sorting_by_name_ignores_case_and_by_created_time_follows_creation(
    owner_client, owner, make_application
):
    for name in ("beta", "Alpha", "gamma"):
        make_application(owner, name)
    names = lambda params: [a["name"] for a in owner_client.get(APPS, params).json()["list"]]  # noqa: E731
    assert names({}) == ["Alpha", "beta", "gamma"]
    assert names({"sortBy": "name", "sortOrder": "desc"}) == ["gamma", "beta", "Alpha"]
    assert names({"sortBy": "createdTime"}) == ["beta", "Alpha", "gamma"]
    assert names({"sortBy": "createdTime", "sortOrder": "desc"}) == ["gamma", "Alpha", "beta"]


def _count_api_list_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(APPS, {"limit": 100}).status_code == 200
    return len(ctx.captured_queries)


def test_the_list_runs_the_same_number_of_queries_for_one_and_fifty_applications(
    owner_client, owner, make_application, make_key
):
    make_key(make_application(owner, "App 000"))
    one = _count_api_list_queries(owner_client)
    for i in range(1, 50):
        application = make_application(owner, f"App {i:03d}")
        make_key(application)
        make_key(application, key_type=KeyType.SANDBOX)
    assert _count_api_list_queries(owner_client) == one


# -- OpenAPI --------------------------------------------------------------------------------------


def test_the_openapi_document_describes_the_applications_api(anonymous_client):
    response = anonymous_client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    assert set(paths[f"{API}/applications"]) >= {"get", "post"}
    assert set(paths[f"{API}/applications/{{applicationId}}"]) >= {"get", "put", "delete"}
    assert schema["components"]["securitySchemes"]["apiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal API token (`dpt_…`) created on the portal's API tokens page.",
    }
    assert "applicationId" in schema["components"]["schemas"]["ApplicationOutput"]["properties"]


def test_the_swagger_ui_is_served_offline_without_inline_code(anonymous_client):
    page = anonymous_client.get(f"{API}/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<style" not in html
    assert "<script>" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "https://" not in html
    script = anonymous_client.get(f"{API}/docs/", {"script": ""})
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert f"{API}/openapi.json" in script.content.decode()


def test_the_swagger_ui_links_back_to_the_portal_with_styles_from_our_file(anonymous_client):
    html = anonymous_client.get(f"{API}/docs/").content.decode()
    assert '<header class="portal-back">' in html
    assert '<a href="/"><span aria-hidden="true">←</span> Developer Portal</a>' in html
    assert '<link rel="stylesheet" href="/static/css/swagger.css">' in html
    assert "style=" not in html
