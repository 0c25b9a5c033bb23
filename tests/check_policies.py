#!/usr/bin/env python3
"""Check that template.yaml grants each function exactly the DynamoDB actions its code calls.

Two halves:
1. Which store methods (the traits of shared/src/store/mod.rs) each function's code path may call:
   the table FUNCTIONS below, kept by hand, with the reason for each. A name that is not a trait
   method fails the check, so a renamed or removed method shows up here.
2. Which DynamoDB actions each store method needs: derived from the DynamoDB adapter
   (shared/src/store/dynamo/*.rs, and default methods of the traits): the SDK operations a method
   body calls (`.get_item()`, `.query()`, ...), the items it builds for a transaction
   (`Put::builder()`, `Update::builder()`, ...), and, transitively, the `self.<helper>(...)` and
   adapter functions it calls. TransactWriteItems has no action of its own: IAM authorises each item it writes.

Fails (exit 1, printing every difference) unless every function of the template has a row, each
one's single policy statement allows exactly the derived actions on the table (`!GetAtt
Table.Arn`), and a function without table access (not-found) has no policy at all.

Run: `.cache/venv/bin/python tests/check_policies.py [--template template.yaml]`
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

from template_checks import CfnLoader, report

ROOT = Path(__file__).resolve().parent.parent
STORE = ROOT / "shared" / "src" / "store"

# --- 1. each function's store calls ------------------------------------------------------------

# edna takes only Bearer tokens: one BatchGetItem of the agent and its session.
EDNA_AUTH = {"agent_and_session"}
# SuperOffice also takes tickets (same batch), cookies, and Basic: a pair verified in the last
# 60 s reads the agent; otherwise it is a login check, which counts a failure (or clears them).
SUPEROFFICE_AUTH = {"agent_and_session", "agent", "agent_for_login", "record_failed_login", "clear_failed_logins"}
# Idempotency-Key: the claim, and its release when the request failed. The completed record is
# written inside the work's own transaction (append_message, open_thread).
IDEMPOTENCY = {"claim_key", "release_key"}
# Sending into a client's thread (core::sending::deliver): a message id, then a message added to
# the open thread, or a thread id and a thread opened with it.
DELIVER = {"next_id", "append_message", "open_thread"}

FUNCTIONS: dict[str, set[str]] = {
    # credentials::log_in: the login and its agent, failures counted or cleared, token + ticket.
    "login": {"agent_for_login", "record_failed_login", "clear_failed_logins", "put_sessions"},
    # sending::send_outgoing: the client by threadsClientId, clientId or threadId, then deliver.
    "send-outgoing": EDNA_AUTH | IDEMPOTENCY | DELIVER | {"client", "client_by_external_id", "thread"},
    # devices::send_to_device: the device and the client it names (a new client and the device
    # binding ride in deliver's transaction), then deliver.
    "send-outgoing-to-device": EDNA_AUTH
    | IDEMPOTENCY
    | DELIVER
    | {"device", "client", "client_by_external_id", "client_by_unauthorized_id"},
    # incoming::receive: the device rule of send_to_device, the provider id's item read first
    # (and again after a refused write); the dedup item rides in deliver's transaction.
    "receive-incoming": EDNA_AUTH
    | IDEMPOTENCY
    | DELIVER
    | {"device", "client", "client_by_external_id", "client_by_unauthorized_id", "provider_message"},
    # status::report: the message's pointer, then one conditional update of the message (a
    # second only to give a late status its missing time).
    "update-message-status": EDNA_AUTH | {"message_location", "update_status"},
    # threads::get_thread: the thread and its client.
    "get-thread": EDNA_AUTH | {"thread", "client"},
    # threads::list_messages: the thread must exist (read alongside the page).
    "list-thread-messages": EDNA_AUTH | {"thread", "messages"},
    # threads::close_thread: the thread, the closing transaction (two updates), its client.
    "close-thread": EDNA_AUTH | {"thread", "close_thread", "client"},
    # threads::open_session: the client named (or a new one), a thread id, the thread opened.
    "create-chat-session": SUPEROFFICE_AUTH
    | IDEMPOTENCY
    | {"client", "client_by_external_id", "next_id", "open_thread"},
    "get-chat-session": SUPEROFFICE_AUTH | {"thread", "client"},
    # sending::post_to_thread: the session's thread, then a message added to it.
    "post-chat-message": SUPEROFFICE_AUTH | IDEMPOTENCY | {"thread", "next_id", "append_message"},
    # threads::list_messages_after: with `after`, the message's place in the thread (one query);
    # without, the thread alongside the page.
    "list-chat-messages": SUPEROFFICE_AUTH | {"thread", "thread_with_message", "messages"},
    # The $default route answers 404/405 without reading anything.
    "not-found": set(),
    # webhooks::subscriptions: a subscription made, listed, read, deleted (answering what it was),
    # its secret rotated (read, then replaced under the condition that it is what was read).
    "create-webhook": EDNA_AUTH | IDEMPOTENCY | {"create_webhook"},
    "list-webhooks": EDNA_AUTH | {"webhooks"},
    "get-webhook": EDNA_AUTH | {"webhook"},
    "delete-webhook": EDNA_AUTH | {"delete_webhook"},
    "rotate-webhook-secret": EDNA_AUTH | {"rotate_secret"},
    # The subscription must exist (read alongside the page, or before the replay's updates).
    "list-webhook-deliveries": EDNA_AUTH | {"webhook", "dispatches"},
    "replay-webhook": EDNA_AUTH | {"webhook", "replay_dispatches"},
    # The feed: the `feed` index, day by day.
    "list-events": EDNA_AUTH | {"events_after"},
    # webhooks::publish: the message a thread's image names, the thread's client, the event
    # recorded (or the one recorded before), a status event's sequence, every subscription, one
    # delivery each; webchat::push: the client's connections, a gone one removed.
    "publish-events": {
        "message_at",
        "client",
        "record_event",
        "event",
        "webhooks",
        "add_dispatch",
        "connections_of",
        "remove_connection",
    },
    # webhooks::deliver::attempt: the claim, the subscription, its outcome (410 disables).
    "deliver-webhooks": {"claim_dispatch", "webhook", "disable_webhook", "finish_attempt"},
    # webhooks::deliver::sweep: every subscription, its due deliveries (the `due` index), attempts.
    "retry-webhooks": {"webhooks", "due_dispatches", "claim_dispatch", "webhook", "disable_webhook", "finish_attempt"},
    # webchat::create_visitor: the client named (or a new one's id), its WEB device, then the
    # token with the new client and device in one transaction.
    "create-visitor": EDNA_AUTH
    | {"client_by_external_id", "client_by_unauthorized_id", "next_id", "device", "create_visitor"},
    # webchat::connect: the token, then the connection's two items.
    "webchat-connect": {"visitor", "add_connection"},
    # The connection, then its two items deleted.
    "webchat-disconnect": {"connection", "remove_connection"},
    # webchat::answer: the connection; sync: the client's open thread, the `after` message's
    # pointer, a page of messages; send: incoming::receive on the client's WEB device (the device,
    # its client, the page's id as a provider id, deliver), then the message read back; read: the
    # pointer, the thread, the status update.
    "webchat-message": DELIVER
    | {
        "connection",
        "client",
        "message_location",
        "messages",
        "device",
        "provider_message",
        "message_at",
        "thread",
        "update_status",
    },
}

# The functions that push to web chat pages: API Gateway's `execute-api:ManageConnections` on
# the WebSocket stage's `POST/@connections/*`, in a statement of its own.
MANAGES_CONNECTIONS = {"publish-events"}
CONNECTIONS_ARN = (
    "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebChatApi}/${WebChatStage}/POST/@connections/*"
)

# Store methods that query a secondary index: their functions are granted that index too (its ARN,
# `!Sub "${Table.Arn}/index/<name>"`, beside the table's).
INDEXES = {"events_after": "feed", "due_dispatches": "due"}

# --- 2. each store method's DynamoDB actions, from the adapter ---------------------------------

# A fluent SDK call (no arguments) or a transaction item builder, and the IAM action it needs.
SDK_CALLS = {
    r"\.get_item\(\)": "GetItem",
    r"\.batch_get_item\(\)": "BatchGetItem",
    r"\.put_item\(\)": "PutItem",
    r"\.update_item\(\)": "UpdateItem",
    r"\.delete_item\(\)": "DeleteItem",
    r"\.query\(\)": "Query",
    r"\.scan\(\)": "Scan",
    r"\bPut::builder\(\)": "PutItem",
    r"\bUpdate::builder\(\)": "UpdateItem",
    r"\bDelete::builder\(\)": "DeleteItem",
    r"\bConditionCheck::builder\(\)": "ConditionCheckItem",
}
FN_START = re.compile(r"\bfn\s+([a-z_][a-z0-9_]*)\s*(?:<[^{;]*?>)?\s*\(")
SELF_CALL = re.compile(r"\bself\s*\.\s*([a-z_][a-z0-9_]*)\s*(?:::<[^>]*>)?\s*\(")
# A call of a function of the adapter by its bare name (not `keys::thread(...)`, not a method).
FREE_CALL = re.compile(r"(?<![\w:.])([a-z_][a-z0-9_]*)\s*(?:::<[^>]*>)?\s*\(")


def strip_comments_and_strings(source: str) -> str:
    """The source with comments and string literals blanked (so braces inside them do not count)."""
    pattern = re.compile(r'//[^\n]*|/\*.*?\*/|r#*"(?:.|\n)*?"#*|"(?:\\.|[^"\\])*"', re.S)
    return pattern.sub(lambda m: '""' if m.group(0).startswith(('"', "r")) else " ", source)


def function_bodies(source: str) -> dict[str, list[str]]:
    """Every `fn name(...) ... { body }` of a file: name -> bodies (a name may appear in several impls)."""
    source = strip_comments_and_strings(source)
    bodies: dict[str, list[str]] = {}
    for match in FN_START.finditer(source):
        open_brace = source.find("{", match.end())
        semicolon = source.find(";", match.end())
        if open_brace < 0 or (0 <= semicolon < open_brace):
            continue  # a declaration without a body (a trait method)
        depth, i = 0, open_brace
        while i < len(source):
            if source[i] == "{":
                depth += 1
            elif source[i] == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        bodies.setdefault(match.group(1), []).append(source[open_brace : i + 1])
    return bodies


def trait_methods(store_mod: Path) -> set[str]:
    """Methods declared by the store traits (`pub trait ...Store { ... }`)."""
    source = strip_comments_and_strings(store_mod.read_text(encoding="utf-8"))
    methods: set[str] = set()
    for trait in re.finditer(r"\bpub trait\s+\w+\s*\{", source):
        depth, i = 1, trait.end()
        while depth and i < len(source):
            depth += {"{": 1, "}": -1}.get(source[i], 0)
            i += 1
        methods |= {m.group(1) for m in FN_START.finditer(source[trait.end() : i])}
    return methods


def derived_actions(store_dir: Path) -> dict[str, set[str]]:
    """Store method or adapter helper -> the DynamoDB actions it needs, calls followed."""
    bodies: dict[str, list[str]] = {}
    for path in [store_dir / "mod.rs", *sorted((store_dir / "dynamo").glob("*.rs"))]:
        for name, found in function_bodies(path.read_text(encoding="utf-8")).items():
            bodies.setdefault(name, []).extend(found)
    direct = {
        name: {action for pattern, action in SDK_CALLS.items() for body in found if re.search(pattern, body)}
        for name, found in bodies.items()
    }
    calls = {
        name: {m.group(1) for body in found for pattern in (SELF_CALL, FREE_CALL) for m in pattern.finditer(body)}
        & bodies.keys()
        for name, found in bodies.items()
    }
    resolved: dict[str, set[str]] = {}
    for name in bodies:
        seen, todo, actions = set(), [name], set()
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            actions |= direct[current]
            todo += calls[current]
        resolved[name] = actions
    return resolved


# --- the template -------------------------------------------------------------------------------




def resources_of(statement: dict) -> tuple[bool, set[str]]:
    """Whether a statement names the table, and the indexes it names (`${Table.Arn}/index/x`)."""
    listed = statement.get("Resource")
    table, indexes = False, set()
    for resource in listed if isinstance(listed, list) else [listed]:
        if resource == {"GetAtt": "Table.Arn"}:
            table = True
        elif isinstance(resource, dict) and isinstance(resource.get("Sub"), str):
            match = re.fullmatch(r"\$\{Table\.Arn\}/index/([A-Za-z0-9_.-]+)", resource["Sub"])
            if not match:
                return False, set()
            indexes.add(match.group(1))
        else:
            return False, set()
    return table, indexes


def granted(
    template: dict, problems: list[str], indexes: dict[str, set[str]], pushers: set[str]
) -> dict[str, set[str] | None]:
    """Binary -> the DynamoDB actions its policy allows on the table (None: no policy at all);
    the indexes each statement names go in `indexes`, the functions that may push to web chat
    connections in `pushers`."""
    result: dict[str, set[str] | None] = {}
    for logical_id, res in (template.get("Resources") or {}).items():
        if not isinstance(res, dict) or res.get("Type") != "AWS::Serverless::Function":
            continue
        binary = ((res.get("Metadata") or {}).get("BuildProperties") or {}).get("Binary")
        if not isinstance(binary, str):
            problems.append(f"template: {logical_id} has no Metadata.BuildProperties.Binary")
            continue
        policies = (res.get("Properties") or {}).get("Policies")
        if policies is None:
            result[binary] = None
            continue
        actions: set[str] = set()
        for policy in policies if isinstance(policies, list) else [policies]:
            if not isinstance(policy, dict) or "Statement" not in policy:
                problems.append(f"template: {logical_id}: only inline policy documents are checked, got {policy!r}")
                continue
            for statement in policy["Statement"]:
                if statement.get("Effect") != "Allow":
                    problems.append(f"template: {logical_id}: a statement that is not Allow: {statement!r}")
                    continue
                if statement.get("Action") in ("execute-api:ManageConnections", ["execute-api:ManageConnections"]):
                    if statement.get("Resource") != {"Sub": CONNECTIONS_ARN}:
                        problems.append(f"template: {logical_id}: ManageConnections must name {CONNECTIONS_ARN}")
                    pushers.add(binary)
                    continue
                table, named = resources_of(statement)
                if not table:
                    problems.append(
                        f"template: {logical_id}: Resource must be !GetAtt Table.Arn (and only its indexes beside it)"
                    )
                indexes.setdefault(binary, set()).update(named)
                listed = statement.get("Action")
                for action in listed if isinstance(listed, list) else [listed]:
                    service, _, name = str(action).partition(":")
                    if service != "dynamodb" or not name or "*" in name:
                        problems.append(f"template: {logical_id}: {action!r} is not one DynamoDB action")
                    actions.add(name)
        result[binary] = actions
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description="template.yaml policies == the DynamoDB calls of each function")
    ap.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    ap.add_argument("--store", type=Path, default=STORE)
    args = ap.parse_args()

    problems: list[str] = []
    methods = trait_methods(args.store / "mod.rs")
    actions_of = derived_actions(args.store)
    for function, calls in sorted(FUNCTIONS.items()):
        for method in sorted(calls - methods):
            problems.append(f"{function}: {method} is not a method of the store traits (shared/src/store/mod.rs)")
    for method in sorted(methods):
        if method not in actions_of:
            problems.append(f"store: no implementation of {method} found in shared/src/store/dynamo/")
        elif not actions_of[method]:
            problems.append(f"store: {method} calls no DynamoDB operation that this check knows (see SDK_CALLS)")

    with args.template.open(encoding="utf-8") as f:
        template = yaml.load(f, Loader=CfnLoader)  # noqa: S506 (SafeLoader subclass)
    indexes: dict[str, set[str]] = {}
    pushers: set[str] = set()
    policies = granted(template, problems, indexes, pushers)
    for binary in sorted(pushers - MANAGES_CONNECTIONS):
        problems.append(f"{binary}: may post to web chat connections, which its code never does")
    for binary in sorted(MANAGES_CONNECTIONS - pushers):
        problems.append(f"{binary}: pushes to web chat connections but is not granted execute-api:ManageConnections")
    for binary in sorted(policies.keys() - FUNCTIONS.keys()):
        problems.append(f"{binary}: in template.yaml but not in tests/check_policies.py FUNCTIONS")
    for binary in sorted(FUNCTIONS.keys() - policies.keys()):
        problems.append(f"{binary}: in tests/check_policies.py FUNCTIONS but not in template.yaml")

    for binary in sorted(policies.keys() & FUNCTIONS.keys()):
        needed = set().union(*(actions_of.get(method, set()) for method in FUNCTIONS[binary]))
        grant = policies[binary]
        if not needed:
            if grant is not None:
                problems.append(f"{binary}: needs no table access but has Policies (drop them)")
            continue
        grant = grant or set()
        for action in sorted(needed - grant):
            why = sorted(m for m in FUNCTIONS[binary] if action in actions_of.get(m, set()))
            problems.append(f"{binary}: needs dynamodb:{action} (for {', '.join(why)}) but is not granted it")
        for action in sorted(grant - needed):
            problems.append(f"{binary}: is granted dynamodb:{action}, which none of its calls needs")
        wanted = {INDEXES[method] for method in FUNCTIONS[binary] if method in INDEXES}
        named = indexes.get(binary, set())
        for index in sorted(wanted - named):
            problems.append(f"{binary}: queries the {index} index but is not granted it")
        for index in sorted(named - wanted):
            problems.append(f"{binary}: is granted the {index} index, which none of its calls queries")

    return report(
        "IAM policies differ from the calls the functions make",
        problems,
        f"policies: OK ({len(FUNCTIONS)} functions, each granted exactly the DynamoDB actions it calls)",
    )


if __name__ == "__main__":
    sys.exit(main())
