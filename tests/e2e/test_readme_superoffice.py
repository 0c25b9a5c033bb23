"""The README's SuperOffice walk-through, run exactly as written against the test stack."""

import json
import os
import re
import shlex
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from helpers import xml_element_to_dict

ROOT = Path(__file__).resolve().parents[2]


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text()
    section = re.search(
        r"<!-- walkthrough-superoffice:start -->(.*?)<!-- walkthrough-superoffice:end -->", readme, re.S
    )
    assert section, "README.md lost its SuperOffice walk-through markers"
    blocks = re.findall(r"```bash\n(.*?)```", section.group(1), re.S)
    assert len(blocks) == 1, "the SuperOffice walk-through is one bash block"
    return blocks[0]


def run_walkthrough(tmp_path: Path) -> str:
    state = tmp_path / "local-api.env"
    state.write_text(
        "".join(
            f"{name}={shlex.quote(os.environ[name])}\n"
            for name in ("API_URL", "DEMO_PASSWORD", "TABLE_NAME", "DYNAMODB_ENDPOINT")
        )
        + "export TABLE_NAME DYNAMODB_ENDPOINT\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("TABLE_NAME", "DYNAMODB_ENDPOINT", "API_URL")}
    env["LOCAL_API_STATE"] = str(state)
    # The README keeps chat-admin at target/debug; the test runner may build elsewhere.
    script = walkthrough().replace("target/debug/chat-admin", shlex.quote(os.environ["ADMIN_BIN"]))
    run = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    return run.stdout


def test_the_superoffice_walkthrough_works_as_written(tmp_path):
    stdout = run_walkthrough(tmp_path)

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
