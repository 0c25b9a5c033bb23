#!/usr/bin/env python3
"""Create the application's DynamoDB table in DynamoDB Local, exactly as template.yaml declares it.

    create_table.py --endpoint http://127.0.0.1:8000 --table-name chat-center-local
                    [--template template.yaml] [--resource Table] [--fresh]

Reads `Resources.<resource>.Properties` of the SAM template (CloudFormation tags such as !Ref,
!GetAtt, !Sub are tolerated), creates the table with its key schema, indexes, billing mode and
stream, then enables TTL as TimeToLiveSpecification says. Idempotent: an existing table is left
alone (its TTL is still switched on); --fresh deletes and recreates it (tests want an empty one).
Dummy credentials and region are used: this is only ever pointed at DynamoDB Local.
Defaults: --endpoint from DYNAMODB_ENDPOINT, --table-name from TABLE_NAME.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import boto3
import yaml
from botocore.exceptions import ClientError

ROOT = Path(__file__).resolve().parent.parent


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that accepts CloudFormation short-form tags, as {"Fn::X"/"Ref": value}."""


def _cfn_tag(loader: yaml.Loader, tag_suffix: str, node: yaml.Node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    return {name: value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(path: Path) -> dict:
    with path.open(encoding="utf-8") as f:
        return yaml.load(f, Loader=CfnLoader)  # noqa: S506 (SafeLoader subclass)


def _has_intrinsic(value) -> bool:
    if isinstance(value, dict):
        return any(k == "Ref" or k.startswith("Fn::") for k in value) or any(
            _has_intrinsic(v) for v in value.values()
        )
    if isinstance(value, list):
        return any(_has_intrinsic(v) for v in value)
    return False


def _index(spec: dict, billing_mode: str) -> dict:
    """An index as CreateTable takes it (CloudFormation-only keys dropped)."""
    out = {k: spec[k] for k in ("IndexName", "KeySchema", "Projection") if k in spec}
    if billing_mode == "PROVISIONED" and "ProvisionedThroughput" in spec:
        out["ProvisionedThroughput"] = _throughput(spec["ProvisionedThroughput"])
    return out


def _throughput(spec: dict) -> dict:
    return {
        "ReadCapacityUnits": int(spec["ReadCapacityUnits"]),
        "WriteCapacityUnits": int(spec["WriteCapacityUnits"]),
    }


def create_table_request(props: dict, table_name: str) -> dict:
    """Translate AWS::DynamoDB::Table Properties into boto3 create_table arguments."""
    used = {
        k: props[k]
        for k in (
            "AttributeDefinitions",
            "KeySchema",
            "BillingMode",
            "ProvisionedThroughput",
            "GlobalSecondaryIndexes",
            "LocalSecondaryIndexes",
            "StreamSpecification",
        )
        if k in props
    }
    if _has_intrinsic(used):
        raise SystemExit(
            "create_table.py: the table's key, index, billing or stream properties use "
            "CloudFormation functions; keep them literal so the local table can be built"
        )
    billing_mode = used.get("BillingMode", "PROVISIONED")
    req: dict = {
        "TableName": table_name,
        "AttributeDefinitions": used["AttributeDefinitions"],
        "KeySchema": used["KeySchema"],
        "BillingMode": billing_mode,
    }
    if billing_mode == "PROVISIONED":
        req["ProvisionedThroughput"] = _throughput(
            used.get("ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
        )
    if used.get("GlobalSecondaryIndexes"):
        req["GlobalSecondaryIndexes"] = [_index(i, billing_mode) for i in used["GlobalSecondaryIndexes"]]
    if used.get("LocalSecondaryIndexes"):
        req["LocalSecondaryIndexes"] = [_index(i, "PAY_PER_REQUEST") for i in used["LocalSecondaryIndexes"]]
    stream = used.get("StreamSpecification")
    if stream and stream.get("StreamViewType"):
        req["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    return req


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", default=os.environ.get("DYNAMODB_ENDPOINT"))
    ap.add_argument("--table-name", default=os.environ.get("TABLE_NAME"))
    ap.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    ap.add_argument("--resource", default="Table", help="logical id of the table in the template")
    ap.add_argument("--fresh", action="store_true", help="delete the table first if it exists")
    args = ap.parse_args()
    if not args.endpoint or not args.table_name:
        ap.error("--endpoint and --table-name (or DYNAMODB_ENDPOINT and TABLE_NAME) are required")

    template = load_template(args.template)
    try:
        resource = template["Resources"][args.resource]
    except (KeyError, TypeError):
        raise SystemExit(f"create_table.py: {args.template} has no Resources.{args.resource}")
    if resource.get("Type") != "AWS::DynamoDB::Table":
        raise SystemExit(f"create_table.py: Resources.{args.resource} is not an AWS::DynamoDB::Table")
    props = resource.get("Properties") or {}
    request = create_table_request(props, args.table_name)

    ddb = boto3.client(
        "dynamodb",
        endpoint_url=args.endpoint,
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )

    if args.fresh:
        try:
            ddb.delete_table(TableName=args.table_name)
            ddb.get_waiter("table_not_exists").wait(
                TableName=args.table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
            )
            print(f"deleted table {args.table_name}", file=sys.stderr)
        except ClientError as e:
            if e.response["Error"]["Code"] != "ResourceNotFoundException":
                raise

    try:
        ddb.create_table(**request)
        print(f"created table {args.table_name} at {args.endpoint}", file=sys.stderr)
    except ClientError as e:
        if e.response["Error"]["Code"] != "ResourceInUseException":
            raise
        print(f"table {args.table_name} already exists at {args.endpoint}", file=sys.stderr)
    ddb.get_waiter("table_exists").wait(
        TableName=args.table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )

    ttl = props.get("TimeToLiveSpecification") or {}
    if ttl.get("Enabled") and ttl.get("AttributeName"):
        current = ddb.describe_time_to_live(TableName=args.table_name)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            ddb.update_time_to_live(
                TableName=args.table_name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
