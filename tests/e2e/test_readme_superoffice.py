"""The README's SuperOffice walk-through, run exactly as written against the test stack."""

import json
import re
import xml.etree.ElementTree as ET

import walkthrough
from helpers import xml_element_to_dict


def test_the_superoffice_walkthrough_works_as_written(tmp_path):
    stdout = walkthrough.run("walkthrough-superoffice", tmp_path)

    # The one XML answer (whatever its line breaks), then the JSON lines around it.
    xml_answers = re.findall(r"<ChatMessage\b[^>]*>.*?</ChatMessage>", stdout, re.S)
    assert len(xml_answers) == 1, stdout
    as_xml = xml_element_to_dict(ET.fromstring(xml_answers[0]))
    answers = [json.loads(line) for line in stdout.splitlines() if line.startswith(("{", "["))]
    session, by_basic, read_with_ticket, listing, sent, after = answers

    session_id = session["ChatSessionId"]
    assert (session["Status"], session["CustomerAlias"], session["MessageCount"]) == ("Chatting", "Grace Hopper", 0)

    assert (by_basic["ChatSessionId"], by_basic["Author"], by_basic["Type"]) == (session_id, "integrator", "ToCustomer")
    assert by_basic["WhenPosted"] == "2024-07-01T10:00:00.0000000Z"
    assert (as_xml["ChatSessionId"], as_xml["Message"]) == (session_id, "Your case number is 1234")

    assert (read_with_ticket["ChatSessionId"], read_with_ticket["MessageCount"]) == (session_id, 2)

    assert [m["ChatMessageId"] for m in listing] == [by_basic["ChatMessageId"], as_xml["ChatMessageId"]]
    assert listing[0]["WhenPosted"] == "2024-07-01T12:00:00.0000000"  # Oslo summer time, no offset

    assert (sent["threadId"], sent["clientId"]) == (session_id, session["CustomerId"])
    [from_edna] = after
    assert from_edna["ChatMessageId"] == sent["id"]
    assert (from_edna["Message"], from_edna["Type"], from_edna["Author"]) == (
        "Sent from the edna side", "ToCustomer", "integrator")
