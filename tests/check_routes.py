#!/usr/bin/env python3
"""Check that the local stack serves exactly the routes of template.yaml.

template.yaml: every AWS::Serverless::Function's `HttpApi` events (Path, Method), with the function
mapped to its binary by Metadata.BuildProperties.Binary.
Cargo.toml: `[workspace.metadata.lambda.watch.router]`, the routes `cargo lambda watch` serves
(scripts/local-api).

Fails (exit 1, printing every difference) unless:
1. the (METHOD, path, binary) routes are the same on both sides, the catch-all aside;
2. the template's catch-all (`$default` or `/{proxy+}`, method ANY) and the router's catch-all
   (`/{*name}`, plus `/`, which matchit's catch-all does not match) name the same binary;
3. on every routed path the router sends each other standard method to that catch-all binary,
   as API Gateway's `$default` route does (cargo-lambda would otherwise answer with its own
   non-JSON 404 where the deployed API gives the catch-all's 405), and sends nothing else there;
4. shared/src/routes/mod.rs names the same (METHOD, path) routes, and each function's `main`
   serves the route module whose `ROUTE` is the route the template sends that function.

Run: `.cache/venv/bin/python tests/check_routes.py [--template template.yaml] [--cargo Cargo.toml]`
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

import yaml

from template_checks import CfnLoader, report

ROOT = Path(__file__).resolve().parent.parent
STANDARD_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")
TEMPLATE_CATCH_ALL_PATHS = {"$default", "/$default", "/{proxy+}"}
ROUTER_CATCH_ALL = re.compile(r"^/\{\*[^}/]+\}$")
RUST_ROUTE = re.compile(r'Route\s*\{\s*method:\s*"([A-Z]+)",\s*pattern:\s*"([^"]+)"\s*\}')




def template_routes(path: Path, problems: list[str]) -> tuple[set[tuple[str, str, str]], set[str]]:
    """(METHOD, path, binary) of every HttpApi event, and the catch-all binaries."""
    with path.open(encoding="utf-8") as f:
        template = yaml.load(f, Loader=CfnLoader)  # noqa: S506 (SafeLoader subclass)
    routes: set[tuple[str, str, str]] = set()
    catch_all: set[str] = set()
    for logical_id, res in (template.get("Resources") or {}).items():
        if not isinstance(res, dict) or res.get("Type") != "AWS::Serverless::Function":
            continue
        events = (res.get("Properties") or {}).get("Events") or {}
        http_events = {n: e for n, e in events.items() if isinstance(e, dict) and e.get("Type") == "HttpApi"}
        if not http_events:
            continue
        binary = ((res.get("Metadata") or {}).get("BuildProperties") or {}).get("Binary")
        if not isinstance(binary, str) or not binary:
            problems.append(f"template: {logical_id} has HttpApi events but no Metadata.BuildProperties.Binary")
            continue
        for name, event in http_events.items():
            props = event.get("Properties") or {}
            ev_path, method = props.get("Path"), props.get("Method")
            # An HttpApi event without Path and Method is the $default route.
            if (ev_path is None and method is None) or (
                isinstance(ev_path, str) and ev_path in TEMPLATE_CATCH_ALL_PATHS
            ):
                if method is not None and str(method).upper() not in ("ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD"):
                    problems.append(f"template: {logical_id}.{name}: catch-all {ev_path} must use Method ANY")
                catch_all.add(binary)
                continue
            if not isinstance(ev_path, str) or not isinstance(method, str):
                problems.append(f"template: {logical_id}.{name}: Path and Method must be literal strings")
                continue
            method = method.upper()
            if method == "ANY":
                problems.append(
                    f"template: {logical_id}.{name}: Method ANY on {ev_path} is not supported by this check"
                )
                continue
            routes.add((method, ev_path, binary))
    return routes, catch_all


# `pub const SEND_OUTGOING: Route = Route { method: "POST", pattern: "/api/v1/messages/outgoing" };`
NAMED_ROUTE = re.compile(r'pub const (\w+): Route = Route \{ method: "(\w+)", pattern: "([^"]+)" \}')
# `shared::routes::serve::<shared::routes::send_outgoing::SendOutgoing>()` in a function's main.
SERVED_MODULE = re.compile(r"shared::routes::(\w+)::\w+>")
# `const ROUTE: Route = super::SEND_OUTGOING;` in a route's module.
ROUTE_CONST = re.compile(r"const ROUTE: Route = super::(\w+);")


def router_table(path: Path) -> dict[str, dict[str, str] | str]:
    """The router as {path: {METHOD: function} | function}, from either of its TOML forms."""
    with path.open("rb") as f:
        cargo = tomllib.load(f)
    raw = cargo.get("workspace", {}).get("metadata", {}).get("lambda", {}).get("watch", {}).get("router")
    if raw is None:
        raise SystemExit(f"{path}: no [workspace.metadata.lambda.watch.router] table")
    table: dict[str, dict[str, str] | str] = {}
    if isinstance(raw, dict):
        for route_path, value in raw.items():
            if isinstance(value, str):
                table[route_path] = value
            else:
                table[route_path] = {str(e["method"]).upper(): e["function"] for e in value}
    else:  # [[...router]] array form: {path, methods?, function}
        for entry in raw:
            methods = entry.get("methods")
            if not methods:
                table[entry["path"]] = entry["function"]
            else:
                current = table.setdefault(entry["path"], {})
                if isinstance(current, dict):
                    current.update({str(m).upper(): entry["function"] for m in methods})
    return table


def main() -> int:
    ap = argparse.ArgumentParser(description="template.yaml routes == Cargo.toml watch router")
    ap.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    ap.add_argument("--cargo", type=Path, default=ROOT / "Cargo.toml")
    ap.add_argument("--routes", type=Path, default=ROOT / "shared" / "src" / "routes" / "mod.rs")
    args = ap.parse_args()

    problems: list[str] = []
    t_routes, t_catch_all = template_routes(args.template, problems)
    router = router_table(args.cargo)

    if len(t_catch_all) > 1:
        problems.append(f"template: more than one catch-all binary: {sorted(t_catch_all)}")
    catch_all_bin = next(iter(t_catch_all), None)

    r_catch_all = {v for p, v in router.items() if ROUTER_CATCH_ALL.match(p) and isinstance(v, str)}
    if t_catch_all != r_catch_all:
        problems.append(
            f"catch-all: template {sorted(t_catch_all) or 'none'} != router /{{*...}} {sorted(r_catch_all) or 'none'}"
        )

    r_routes: set[tuple[str, str, str]] = set()
    fallthrough: dict[str, set[str]] = {}
    for route_path, value in router.items():
        if ROUTER_CATCH_ALL.match(route_path):
            continue
        if isinstance(value, str):
            if route_path == "/" and value == catch_all_bin:
                continue
            problems.append(f"router: {route_path} = \"{value}\" has no method table (use [{{ method, function }}])")
            continue
        for method, function in value.items():
            if function == catch_all_bin:
                fallthrough.setdefault(route_path, set()).add(method)
            else:
                r_routes.add((method, route_path, function))

    t_paths = {p for _, p, _ in t_routes}
    if "/" not in t_paths and catch_all_bin and router.get("/") != catch_all_bin:
        problems.append(f'router: "/" must go to the catch-all: "/" = "{catch_all_bin}"')

    for method, route_path, binary in sorted(t_routes - r_routes, key=lambda r: (r[1], r[0])):
        problems.append(f"only in template.yaml: {method} {route_path} -> {binary}")
    for method, route_path, binary in sorted(r_routes - t_routes, key=lambda r: (r[1], r[0])):
        problems.append(f"only in Cargo.toml router: {method} {route_path} -> {binary}")

    # Rule 3: other methods of a known path go to the catch-all, and only those.
    if catch_all_bin:
        for route_path in sorted(t_paths):
            declared = {m for m, p, _ in t_routes if p == route_path}
            expected = set(STANDARD_METHODS) - declared
            got = fallthrough.get(route_path, set())
            if expected - got:
                problems.append(
                    f"router: {route_path} should send {', '.join(sorted(expected - got))} to {catch_all_bin}"
                )
            if got & declared:
                problems.append(
                    f"router: {route_path} sends {', '.join(sorted(got & declared))} to {catch_all_bin}, "
                    "but template.yaml routes them to a function"
                )
        for route_path in sorted(set(fallthrough) - t_paths):
            problems.append(f"router: {route_path} is not a path of template.yaml")

    # The route table the functions and the catch-all's 405 answers use.
    shared_routes = {
        (method, path)
        for method, path in RUST_ROUTE.findall(args.routes.read_text())
        if method != "ANY"
    }
    template_pairs = {(m, p) for m, p, _ in t_routes}
    for method, route_path in sorted(template_pairs - shared_routes):
        problems.append(f"only in template.yaml, not in shared/src/routes/mod.rs: {method} {route_path}")
    for method, route_path in sorted(shared_routes - template_pairs):
        problems.append(f"only in shared/src/routes/mod.rs: {method} {route_path}")

    # Each function serves the route the template sends it: its main names a route module whose
    # `ROUTE` is that (method, path).
    named = {name: (method, path) for name, method, path in NAMED_ROUTE.findall(args.routes.read_text())}
    for method, route_path, binary in sorted(t_routes):
        main_rs = ROOT / "functions" / binary / "src" / "main.rs"
        served = SERVED_MODULE.search(main_rs.read_text()) if main_rs.exists() else None
        if not served:
            problems.append(f"functions/{binary}/src/main.rs names no shared::routes::<module>::<Route>")
            continue
        module = args.routes.parent / f"{served.group(1)}.rs"
        constant = ROUTE_CONST.search(module.read_text()) if module.exists() else None
        if not constant or named.get(constant.group(1)) != (method, route_path):
            got = named.get(constant.group(1)) if constant else None
            problems.append(
                f"functions/{binary} serves shared::routes::{served.group(1)} ({got}), "
                f"but template.yaml sends it {method} {route_path}"
            )

    return report(
        "check_routes: template.yaml and the Cargo.toml watch router differ",
        problems,
        f"check_routes: {len(t_routes)} routes + catch-all ({catch_all_bin}) agree",
    )


if __name__ == "__main__":
    sys.exit(main())
