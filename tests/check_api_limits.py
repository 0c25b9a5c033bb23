#!/usr/bin/env python3
"""Check the limits and logs template.yaml puts in front of the functions.

Fails (exit 1, printing every problem) unless the HTTP API
1. throttles every route (DefaultRouteSettings) with a burst and a rate that are template
   Parameters with a default of at least 1;
2. writes access logs to a LogGroup of the template that has a retention, in a format that is one
   JSON object carrying at least the fields of ACCESS_LOG_FIELDS, each from `$context`.

Run: `.cache/venv/bin/python tests/check_api_limits.py [--template template.yaml]`
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

from template_checks import CfnLoader, report

ROOT = Path(__file__).resolve().parent.parent
ACCESS_LOG_FIELDS = (
    "requestId", "ip", "requestTime", "httpMethod", "routeKey", "status", "protocol", "responseLength",
    "integrationErrorMessage",
)


def check(template: dict) -> list[str]:
    problems: list[str] = []
    resources = template.get("Resources") or {}
    parameters = template.get("Parameters") or {}
    apis = {name: res for name, res in resources.items() if res.get("Type") == "AWS::Serverless::HttpApi"}
    if len(apis) != 1:
        return [f"expected one AWS::Serverless::HttpApi, found {sorted(apis)}"]
    name, api = next(iter(apis.items()))
    props = api.get("Properties") or {}

    settings = props.get("DefaultRouteSettings") or {}
    for limit in ("ThrottlingBurstLimit", "ThrottlingRateLimit"):
        ref = (settings.get(limit) or {}).get("Ref") if isinstance(settings.get(limit), dict) else None
        if ref not in parameters:
            problems.append(f"{name}.DefaultRouteSettings.{limit} must be !Ref of a template parameter")
            continue
        default = parameters[ref].get("Default")
        if not isinstance(default, (int, float)) or default < 1:
            problems.append(f"parameter {ref} needs a numeric Default of at least 1, has {default!r}")

    logs = props.get("AccessLogSettings") or {}
    destination = logs.get("DestinationArn")
    group = (destination or {}).get("GetAtt", "").split(".")[0] if isinstance(destination, dict) else ""
    if resources.get(group, {}).get("Type") != "AWS::Logs::LogGroup":
        problems.append(f"{name}.AccessLogSettings.DestinationArn must be !GetAtt <LogGroup>.Arn of this template")
    elif "RetentionInDays" not in (resources[group].get("Properties") or {}):
        problems.append(f"{group}: access logs need a RetentionInDays")
    try:
        fields = json.loads(logs.get("Format") or "")
    except ValueError as e:
        problems.append(f"{name}.AccessLogSettings.Format is not one JSON object: {e}")
        fields = {}
    if not isinstance(fields, dict):
        problems.append(f"{name}.AccessLogSettings.Format is not a JSON object")
        fields = {}
    for field in ACCESS_LOG_FIELDS:
        if field not in fields:
            problems.append(f"access log format lacks {field}")
    for field, value in fields.items():
        if not (isinstance(value, str) and re.fullmatch(r"\$context\.[A-Za-z.]+", value)):
            problems.append(f"access log field {field} must be one $context variable, is {value!r}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description="template.yaml throttles the API and logs access in JSON")
    ap.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    args = ap.parse_args()
    with args.template.open(encoding="utf-8") as f:
        template = yaml.load(f, Loader=CfnLoader)  # noqa: S506 (SafeLoader subclass)
    problems = check(template)
    return report(
        "API limits and access logs",
        problems,
        f"api limits: OK (throttled, JSON access logs with {len(ACCESS_LOG_FIELDS)}+ fields)",
    )


if __name__ == "__main__":
    sys.exit(main())
