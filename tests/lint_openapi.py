#!/usr/bin/env python3
"""Lint openapi.yaml and check it against template.yaml.

1. openapi.yaml must be a valid OpenAPI 3.1 document (openapi-spec-validator).
2. Every path + method in openapi.yaml must be an HttpApi event of a function in template.yaml,
   and every HttpApi event must be documented in openapi.yaml. The catch-all route
   (`$default`, `/{proxy+}`, or an event without Path and Method) is ignored.

Run with the project's venv: `.cache/venv/bin/python tests/lint_openapi.py`.
Exits 0 when everything is in order, 1 on any problem (all problems are printed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml
from openapi_spec_validator import OpenAPIV31SpecValidator

ROOT = Path(__file__).resolve().parent.parent
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
CATCH_ALL_PATHS = {"$default", "/$default", "/{proxy+}"}


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation short-form tags (!Ref, !GetAtt, !Sub, ...)."""


def _cfn_tag(loader: CfnLoader, tag_suffix: str, node: yaml.Node) -> dict:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


def validate_openapi(spec: dict) -> list[str]:
    problems = []
    if not str(spec.get("openapi", "")).startswith("3.1"):
        problems.append(f"openapi.yaml: `openapi` is {spec.get('openapi')!r}, expected 3.1.x")
    try:
        for error in OpenAPIV31SpecValidator(spec).iter_errors():
            where = "/".join(str(p) for p in getattr(error, "absolute_path", []) or [])
            problems.append(f"openapi.yaml: {where or '<root>'}: {error.message}")
    except Exception as exc:  # e.g. an unresolvable $ref aborts the validator
        message = str(exc).split(" does not exist within ", 1)[0]
        problems.append(f"openapi.yaml: {type(exc).__name__}: {message[:300]}")
    return problems


def openapi_routes(spec: dict) -> set[tuple[str, str]]:
    routes = set()
    for path, item in (spec.get("paths") or {}).items():
        if path in CATCH_ALL_PATHS or not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            if method in item:
                routes.add((method.upper(), path))
    return routes


def template_routes(template: dict) -> tuple[set[tuple[str, str]], list[str]]:
    routes: set[tuple[str, str]] = set()
    problems: list[str] = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        events = (resource.get("Properties") or {}).get("Events") or {}
        for event_id, event in events.items():
            if not isinstance(event, dict) or event.get("Type") != "HttpApi":
                continue
            props = event.get("Properties") or {}
            path, method = props.get("Path"), props.get("Method")
            if (not path and not method) or path in CATCH_ALL_PATHS:
                continue
            if not isinstance(path, str) or not isinstance(method, str):
                problems.append(f"template.yaml: {logical_id}.{event_id}: Path and Method must be literal strings")
                continue
            route = (method.upper(), path)
            if route in routes:
                problems.append(f"template.yaml: {method.upper()} {path} is declared twice")
            routes.add(route)
    return routes, problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--openapi", type=Path, default=ROOT / "openapi.yaml")
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    args = parser.parse_args()

    problems: list[str] = []
    try:
        spec = yaml.safe_load(args.openapi.read_text(encoding="utf-8"))
        template = yaml.load(args.template.read_text(encoding="utf-8"), Loader=CfnLoader)
    except (OSError, yaml.YAMLError) as exc:
        print(f"FAIL: {exc}", file=sys.stderr)
        return 1
    if not isinstance(spec, dict) or not isinstance(template, dict):
        print("FAIL: openapi.yaml and template.yaml must both be YAML mappings", file=sys.stderr)
        return 1

    problems += validate_openapi(spec)

    documented = openapi_routes(spec)
    deployed, template_problems = template_routes(template)
    problems += template_problems
    for method, path in sorted(deployed - documented, key=lambda r: (r[1], r[0])):
        problems.append(f"{method} {path}: HttpApi event in template.yaml but not in openapi.yaml")
    for method, path in sorted(documented - deployed, key=lambda r: (r[1], r[0])):
        problems.append(f"{method} {path}: in openapi.yaml but no HttpApi event in template.yaml")

    if problems:
        for problem in problems:
            print(f"FAIL: {problem}", file=sys.stderr)
        return 1
    print(f"OK: openapi.yaml is valid OpenAPI {spec['openapi']}; "
          f"{len(documented)} routes match template.yaml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
