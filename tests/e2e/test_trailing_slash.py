"""Trailing slashes (issue 17): a known path sent with a trailing slash is answered with a
`308 Permanent Redirect` to its canonical path (query string kept), in the dialect's body; the
same method and body sent there get the canonical answer. A path unknown even without its slash
stays 404. Never a 405 that allows the very method used.
"""

from __future__ import annotations

import json

import requests

from helpers import (
    CHAT_SESSIONS,
    OUTGOING,
    assert_error,
    chat_messages_path,
    new_session,
    ok,
    so_body,
    so_ok,
    unique,
)


def assert_common_headers(response: requests.Response) -> None:
    assert response.headers.get("Cache-Control") == "no-store", response.headers
    assert response.headers.get("X-Content-Type-Options") == "nosniff", response.headers
    assert "Allow" not in response.headers, response.headers


def redirected(api, method: str, path: str, token: str, **kwargs) -> tuple[requests.Response, str]:
    """The 308 for `path` (not followed) and the URL its Location names."""
    response = api.request(method, path, token, allow_redirects=False, **kwargs)
    assert response.status_code == 308, f"{method} {path}: {response.status_code} {response.text[:500]}"
    assert_common_headers(response)
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//"), location
    return response, location


def test_edna_paths_redirect_and_the_same_request_there_gets_the_canonical_answer(api, integrator, client) -> None:
    body = {"text": f"slash {unique('t')}", "clientId": client["externalId"]}
    response, location = redirected(api, "POST", OUTGOING + "/", integrator, json=body)
    assert location == OUTGOING
    assert response.json() == {"code": "PERMANENT_REDIRECT", "message": f"moved permanently to {location}",
                               "location": location}
    # The redirect itself stored nothing; following it with the same method and body sends once.
    sent = ok(api.post(location, integrator, json=body))
    thread_id = sent["threadId"]

    path = f"/api/v1/threads/{thread_id}/"
    _, location = redirected(api, "GET", path, integrator)
    assert location == f"/api/v1/threads/{thread_id}"
    assert ok(api.get(location, integrator))["id"] == thread_id

    # The query string is kept.
    _, location = redirected(api, "GET", f"/api/v1/threads/{thread_id}/messages/?limit=1", integrator)
    assert location == f"/api/v1/threads/{thread_id}/messages?limit=1"
    page = ok(api.get(location, integrator))
    assert len(page["items"]) == 1, page


def test_a_client_that_follows_redirects_gets_there_with_its_method_and_body(api, integrator, client) -> None:
    """What an SDK that writes every path with a trailing slash sees: requests follows a 308 with
    the same method, body and (same host) Authorization header."""
    body = {"text": f"followed {unique('t')}", "clientId": client["externalId"]}
    response = api.post(OUTGOING + "/", integrator, json=body)
    assert [r.status_code for r in response.history] == [308], response.history
    sent = ok(response)
    assert sent["clientExternalId"] == client["externalId"], sent
    # Sent once: the thread holds it once.
    texts = [m["text"] for m in api.all_messages(integrator, sent["threadId"])]
    assert texts.count(body["text"]) == 1, texts


def test_superoffice_paths_redirect_in_its_shape(api, integrator) -> None:
    fields = {"CustomerAlias": unique("slash")}
    data = json.dumps(fields).encode()
    headers = {"Content-Type": "application/json"}
    response, location = redirected(api, "POST", CHAT_SESSIONS + "/", integrator, data=data, headers=headers)
    assert location == CHAT_SESSIONS
    assert so_body(response) == {"Error": False, "ErrorType": "PermanentRedirect",
                                 "ErrorMessage": f"moved permanently to {location}", "ErrorSource": ""}
    session = so_ok(api.post(location, integrator, data=data, headers=headers), 201)
    assert session["CustomerAlias"] == fields["CustomerAlias"], session

    session_id = new_session(api, integrator)["ChatSessionId"]
    _, location = redirected(api, "GET", f"{CHAT_SESSIONS}/{session_id}/", integrator)
    assert location == f"{CHAT_SESSIONS}/{session_id}"
    assert so_ok(api.get(location, integrator))["ChatSessionId"] == session_id

    _, location = redirected(api, "GET", chat_messages_path(session_id) + "/", integrator)
    assert location == chat_messages_path(session_id)
    assert so_ok(api.get(location, integrator)) == []

    # XML when asked for it.
    response, _ = redirected(api, "GET", chat_messages_path(session_id) + "/", integrator,
                             headers={"Accept": "application/xml"})
    assert so_body(response, "application/xml")["ErrorType"] == "PermanentRedirect"


def test_a_path_unknown_without_its_slash_stays_404(api, integrator) -> None:
    for path in ("/api/v1/nothing/", "/api/v1/threads/", "/api/v1/messages/outgoing/nothing/"):
        response = api.request("GET", path, integrator, allow_redirects=False)
        assert_error(response, 404, "NOT_FOUND")
        assert_common_headers(response)
