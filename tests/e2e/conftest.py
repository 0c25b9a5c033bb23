"""Shared fixtures of the end-to-end suite: the running API, demo agents, chat-admin, the table.

The suite runs against a local stack (`scripts/test` starts it; see its header) and needs:
  API_URL            base URL of the API, e.g. http://127.0.0.1:3000
  DEMO_PASSWORD      password of the demo agents integrator, operator, supervisor,
                     administrator, bot and gateway
  TABLE_NAME         the stack's DynamoDB table (fresh: the seed tests expect client id 1)
  DYNAMODB_ENDPOINT  DynamoDB Local's URL
  ADMIN_BIN          path of the `chat-admin` binary

Tests run one after the other, so counting table items before and after a request tells what that
request wrote.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from typing import Iterator

import boto3
import pytest

from helpers import DEMO_ROLES, ENTITIES, TIMEOUT, Api, count_entities, unique


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.exit(f"the e2e tests need {name} in the environment (scripts/test sets it)", returncode=2)
    return value


# --- fixtures: the API and its agents -----------------------------------------------------------


@pytest.fixture(scope="session")
def api_url() -> str:
    return env("API_URL").rstrip("/")


@pytest.fixture(scope="session")
def api(api_url: str) -> Api:
    return Api(api_url)


@pytest.fixture(scope="session")
def demo_password() -> str:
    return env("DEMO_PASSWORD")


@pytest.fixture(scope="session")
def logins(api: Api, demo_password: str) -> dict[str, dict]:
    """The login response of every demo agent, by login (= role in lower case)."""
    return {role: api.login(role, demo_password) for role in DEMO_ROLES}


@pytest.fixture(scope="session")
def tokens(logins: dict[str, dict]) -> dict[str, str]:
    """`Authorization` header value ("Bearer ...") of every demo agent, by role in lower case."""
    return {role: response["token"] for role, response in logins.items()}


@pytest.fixture(scope="session")
def agent_ids(logins: dict[str, dict]) -> dict[str, int]:
    return {role: response["userId"] for role, response in logins.items()}


@pytest.fixture(scope="session")
def integrator(tokens: dict[str, str]) -> str:
    return tokens["integrator"]


# --- fixtures: chat-admin -------------------------------------------------------------------------


class Admin:
    """Runs `chat-admin` against the stack's table."""

    def __init__(self, binary: str, table_name: str, endpoint: str) -> None:
        self.binary = binary
        self.env = {**os.environ, "TABLE_NAME": table_name, "DYNAMODB_ENDPOINT": endpoint}

    def run(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [self.binary, *args], input=stdin, env=self.env, capture_output=True, text=True, timeout=TIMEOUT
        )
        assert done.returncode == 0, f"chat-admin {' '.join(args)} failed ({done.returncode}): {done.stderr}"
        return done.stdout

    def create_client(self, external_id: str, name: str | None = None) -> dict:
        """`{"clientId", "externalId", "displayName"}` of the new client."""
        args = ["client", "create", "--external-id", external_id] + (["--name", name] if name else [])
        return json.loads(self.run(*args))


@pytest.fixture(scope="session")
def admin(table_name: str, dynamodb_endpoint: str) -> Admin:
    return Admin(env("ADMIN_BIN"), table_name, dynamodb_endpoint)


@pytest.fixture
def client(admin: Admin) -> dict:
    """A new authorized client (external id unique to the test)."""
    return admin.create_client(unique("client"))


# --- fixtures: the table -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def table_name() -> str:
    return env("TABLE_NAME")


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> str:
    return env("DYNAMODB_ENDPOINT")


@pytest.fixture(scope="session")
def table(table_name: str, dynamodb_endpoint: str):
    resource = boto3.resource(
        "dynamodb",
        endpoint_url=dynamodb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="dummy",
        aws_secret_access_key="dummy",
    )
    return resource.Table(table_name)


class EntityDelta:
    """What a block of code added to the table, per entity (filled in when the block ends)."""

    def __init__(self, table) -> None:
        self.table = table
        self.before = count_entities(table)
        self.added: dict[str, int] = {}

    def finish(self) -> None:
        after = count_entities(self.table)
        self.added = {entity: after[entity] - self.before[entity] for entity in ENTITIES}


@pytest.fixture
def entity_delta(table):
    """`with entity_delta() as delta: ...` then `delta.added["MESSAGE"]` is how many were written."""

    @contextlib.contextmanager
    def measure() -> Iterator[EntityDelta]:
        delta = EntityDelta(table)
        yield delta
        delta.finish()

    return measure


@pytest.fixture
def writes_nothing(entity_delta):
    """`with writes_nothing(): ...` fails when the block added or removed any entity item."""

    @contextlib.contextmanager
    def check() -> Iterator[None]:
        with entity_delta() as delta:
            yield
        changed = {entity: n for entity, n in delta.added.items() if n}
        assert not changed, f"a rejected request wrote to the table: {changed}"

    return check
