"""The README's webhooks walk-through, run exactly as written against the test stack."""

import json
import socket

import walkthrough


def test_the_webhooks_walkthrough_works_as_written(tmp_path, monkeypatch):
    with socket.socket() as probe:  # a free port for the walk-through's receiver
        probe.bind(("127.0.0.1", 0))
        monkeypatch.setenv("PORT_HOOKS", str(probe.getsockname()[1]))
    stdout = walkthrough.run("walkthrough-webhooks", tmp_path)

    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    opened, created, deliveries = lines
    assert (opened["type"], created["type"]) == ("thread.opened", "message.created")
    message = created["data"]["message"]
    assert (message["text"], message["sequence"], message["direction"]) == ("Welcome aboard", 1, "OUTGOING")
    assert message["threadId"] == opened["data"]["thread"]["id"]
    # Newest first; the thread opened at its first message's time, so the two may come either way.
    assert {item["eventId"] for item in deliveries["items"]} == {created["id"], opened["id"]}
    assert {item["status"] for item in deliveries["items"]} == {"DELIVERED"}
