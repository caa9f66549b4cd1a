"""Load template.yaml and translate it with the AWS SAM translator, as CloudFormation would.

`sam validate` and `sam deploy` run the same translator (aws-sam-translator); these helpers run
it offline: local CodeUri/ContentUri folders are swapped for S3 URIs (what `sam package` does)
and no AWS call is made.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

from scripts.stackset_template import sam_to_cloudformation

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
REGION = "us-east-1"
ARTIFACT_BUCKET = "autoresponder-template-tests"

SAM_FUNCTION = "AWS::Serverless::Function"
_LOCAL_ARTIFACTS = {
    SAM_FUNCTION: "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
}


@cache
def _load(path: Path) -> dict[str, Any]:
    # cfn-lint's loader understands the short intrinsic tags (!Ref, !Sub, !GetAtt ...); the JSON
    # round trip turns its annotated nodes into plain dicts, lists and strings.
    return json.loads(json.dumps(cfn_yaml.load(str(path))))


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The SAM template as a plain dict (a fresh copy: callers may change it)."""
    return copy.deepcopy(_load(path))


def sam_function_ids(template: dict[str, Any]) -> list[str]:
    """Logical IDs of the AWS::Serverless::Function resources, sorted."""
    return sorted(
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == SAM_FUNCTION
    )


def parameter_defaults(template: dict[str, Any]) -> dict[str, Any]:
    return {
        name: spec["Default"]
        for name, spec in template.get("Parameters", {}).items()
        if "Default" in spec
    }


def translate(
    template: dict[str, Any], parameter_values: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The CloudFormation template that the AWS::Serverless transform makes of `template`."""
    template = copy.deepcopy(template)
    for resource in template["Resources"].values():
        key = _LOCAL_ARTIFACTS.get(resource["Type"])
        properties = resource.get("Properties", {})
        if key and isinstance(properties.get(key), str):
            local_path = properties[key].strip("/")
            properties[key] = f"s3://{ARTIFACT_BUCKET}/{local_path}"
    # the translator `make package` runs for the StackSet artefact (scripts/stackset_template)
    return sam_to_cloudformation(template, parameter_values, region=REGION)


def resources_of_type(cfn: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in cfn["Resources"].items()
        if resource["Type"] == resource_type
    }


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def iam_statements(cfn: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, statement) for every statement of every IAM role, policy and managed policy."""
    for logical_id, resource in cfn["Resources"].items():
        properties = resource.get("Properties", {})
        documents: list[tuple[str, dict[str, Any]]] = []
        if resource["Type"] == "AWS::IAM::Role":
            documents = [
                (f"{logical_id}/{policy['PolicyName']}", policy["PolicyDocument"])
                for policy in properties.get("Policies", [])
            ]
        elif resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            documents = [(logical_id, properties["PolicyDocument"])]
        for where, document in documents:
            for statement in as_list(document["Statement"]):
                yield where, statement


def actions(statement: dict[str, Any]) -> list[str]:
    return [str(action) for action in as_list(statement.get("Action", []))]


def role_of(cfn: dict[str, Any], function_id: str) -> str:
    """Logical ID of the IAM role a translated function runs with."""
    role = cfn["Resources"][function_id]["Properties"]["Role"]
    return str(role["Fn::GetAtt"][0])
