"""`chat-admin webhook add | list | rotate-secret | remove` against the stack's table: the operator's
shell does what the API's subscription routes do, and the API sees what it made."""

import json
import subprocess

import requests
from helpers import ok, remember

URL = "https://93.184.215.14/from-the-shell"  # a public address: nothing has to resolve


def test_the_operator_manages_subscriptions_from_the_shell(admin, api_url, integrator) -> None:
    made = json.loads(admin.run("webhook", "add", "--url", URL, "--event", "message.created",
                                "--event", "thread.closed", "--format", "superoffice", "--description", "crm"))
    remember(made["secret"])
    assert made["id"].startswith("wh_") and made["secret"].startswith("whsec_")
    assert (made["events"], made["format"], made["status"]) == (["message.created", "thread.closed"], "superoffice", "ENABLED")

    listed = json.loads(admin.run("webhook", "list"))["items"]
    mine = [item for item in listed if item["id"] == made["id"]]
    assert len(mine) == 1 and "secret" not in mine[0]

    # The API reads the same subscription.
    read = ok(requests.get(f"{api_url}/api/v1/webhooks/{made['id']}", headers={"Authorization": integrator}, timeout=30))
    assert (read["url"], read["description"]) == (URL, "crm")

    rotated = json.loads(admin.run("webhook", "rotate-secret", "--id", made["id"]))
    remember(rotated["secret"])
    assert rotated["secret"] != made["secret"] and rotated["id"] == made["id"]

    removed = json.loads(admin.run("webhook", "remove", "--id", made["id"]))
    assert removed["id"] == made["id"]
    again = subprocess.run([admin.binary, "webhook", "remove", "--id", made["id"]], env=admin.env,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "no webhook" in again.stderr


def test_the_shell_refuses_what_the_api_refuses(admin) -> None:
    for args, said in [
        (["--url", "https://10.0.0.1/h"], "private"),
        (["--url", "https://169.254.169.254/latest"], "link-local"),
        (["--url", URL, "--event", "message.deleted"], "message.deleted"),
        (["--url", URL, "--format", "xml"], "superoffice"),
    ]:
        done = subprocess.run([admin.binary, "webhook", "add", *args], env=admin.env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 1 and said in done.stderr, (args, done.stderr)
