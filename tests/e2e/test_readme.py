"""The README's walk-through, run exactly as written against the test stack."""

import json

import walkthrough


def test_the_readme_walkthrough_works_as_written(tmp_path):
    stdout = walkthrough.run("walkthrough", tmp_path)
    answers = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    created, first, by_internal_id, by_thread, to_device, thread, page, closed = answers
    assert created["externalId"] == "customer-42"
    assert first["clientExternalId"] == "customer-42" and first["clientId"] == created["clientId"]
    assert by_internal_id["threadId"] == by_thread["threadId"] == to_device["threadId"] == first["threadId"]
    assert to_device["clientId"] == created["clientId"]
    assert thread["messageCount"] == 4 and thread["status"] == "OPEN"
    assert [m["text"] for m in page["items"]] == ["Hello on WhatsApp", "Invoice attached"]
    assert page["nextCursor"]
    assert closed["status"] == "CLOSED" and closed["id"] == first["threadId"]
