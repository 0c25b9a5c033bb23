"""The README's walk-through, run exactly as written against the test stack."""

import json

import walkthrough


def test_the_readme_walkthrough_works_as_written(tmp_path):
    stdout = walkthrough.run("walkthrough", tmp_path)
    answers = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    created, first, by_internal_id, by_thread, to_device, incoming, retried, *statuses, thread, page, closed = answers
    assert created["externalId"] == "customer-42"
    assert first["clientExternalId"] == "customer-42" and first["clientId"] == created["clientId"]
    assert by_internal_id["threadId"] == by_thread["threadId"] == to_device["threadId"] == first["threadId"]
    assert to_device["clientId"] == created["clientId"]
    # The customer's answer joins the thread; the provider's retry is the same message.
    assert incoming["threadId"] == first["threadId"] and retried == incoming
    assert [s["status"] for s in statuses] == ["DELIVERED", "READ", "READ"]
    assert statuses[-1] == statuses[-2] and statuses[-1]["deliveredAt"] == statuses[0]["deliveredAt"]
    assert thread["messageCount"] == 5 and thread["status"] == "OPEN"
    assert [m["text"] for m in page["items"]] == ["Thanks! Where is it now?", "Hello on WhatsApp"]
    assert [(m["direction"], m["agentId"]) for m in page["items"]][0] == ("INCOMING", None)
    assert page["nextCursor"]
    assert closed["status"] == "CLOSED" and closed["id"] == first["threadId"]
