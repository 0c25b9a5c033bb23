"""The README's walk-through, run exactly as written against the test stack."""

import json
import os
import re
import shlex
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text()
    section = re.search(r"<!-- walkthrough:start -->(.*?)<!-- walkthrough:end -->", readme, re.S)
    assert section, "README.md lost its walk-through markers"
    blocks = re.findall(r"```bash\n(.*?)```", section.group(1), re.S)
    assert len(blocks) == 1, "the walk-through is one bash block"
    return blocks[0]


def test_the_readme_walkthrough_works_as_written(tmp_path):
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

    answers = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    created, first, by_internal_id, by_thread, to_device, thread, page, closed = answers
    assert created["externalId"] == "customer-42"
    assert first["clientExternalId"] == "customer-42" and first["clientId"] == created["clientId"]
    assert by_internal_id["threadId"] == by_thread["threadId"] == to_device["threadId"] == first["threadId"]
    assert to_device["clientId"] == created["clientId"]
    assert thread["messageCount"] == 4 and thread["status"] == "OPEN"
    assert [m["text"] for m in page["items"]] == ["Hello on WhatsApp", "Invoice attached"]
    assert page["nextCursor"]
    assert closed["status"] == "CLOSED" and closed["id"] == first["threadId"]
