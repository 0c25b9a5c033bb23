"""Running a README walk-through (a bash block between two markers) against the test stack."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

from helpers import remember

ROOT = Path(__file__).resolve().parents[2]


def block(marker: str) -> str:
    """The one bash block between `<!-- {marker}:start -->` and `<!-- {marker}:end -->`."""
    readme = (ROOT / "README.md").read_text()
    section = re.search(rf"<!-- {marker}:start -->(.*?)<!-- {marker}:end -->", readme, re.S)
    assert section, f"README.md lost its {marker} markers"
    blocks = re.findall(r"```bash\n(.*?)```", section.group(1), re.S)
    assert len(blocks) == 1, f"the {marker} section is one bash block"
    return blocks[0]


def run(marker: str, tmp_path: Path) -> str:
    """Runs the block as written, with the stack's state file; its stdout."""
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
    script = block(marker).replace("target/debug/chat-admin", shlex.quote(os.environ["ADMIN_BIN"]))
    remember_literals(script)
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result.stdout


def remember_literals(script: str) -> None:
    """The texts, names and addresses the block sends as literals, for the log scan
    (test_zz_logs.py); the password and tokens it uses are the suite's own."""
    # Quotes may be escaped (inside a double-quoted shell string).
    fields = r'\\?"(?:text|deviceAddress|Message|CustomerAlias)\\?":\s*\\?"([^"$\\]+)\\?"'
    for value in re.findall(fields, script) + re.findall(r"<Message>([^<$]+)</Message>", script):
        remember(value)
    for value in re.findall(r'--name\s+"([^"$]+)"', script):
        remember(value)
