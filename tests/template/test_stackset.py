"""Organisation-wide deployment: the StackSet artefact (`make package`,
scripts/stackset_template.py) deployed with service-managed permissions to an OU of two member
accounts in two regions, on the local AWS (moto 5 in server mode).

What moto emulates, and is tested here: an organisation with an OU and member accounts;
CreateStackSet with PermissionModel SERVICE_MANAGED and a TemplateURL; CreateStackInstances
with DeploymentTargets.OrganizationalUnitIds resolved to the OU's accounts × the regions, each
instance a stack whose resources moto creates in that account and region;
ListStackInstances, ListStackSetOperations, DescribeStackSetOperation; Lambda reading each
function's code from the S3 object the template names (so a function whose code is missing
from its region's bucket has CodeSize 0).

What moto cannot emulate, and is therefore not tested here:
- AutoDeployment: accepted and ignored (not even returned by DescribeStackSet); an account
  that joins the OU later gets no stack instance, one that leaves keeps it.
- The service-managed permission model itself: no trusted access with AWS Organizations to
  activate, no delegated administrator (`--call-as DELEGATED_ADMIN`), no service-linked
  execution roles in the member accounts; moto deploys to the OU's accounts regardless.
- The rule that service-managed StackSets reject templates with macros (hence the expansion,
  checked on the template instead), the 51,200-byte limit of an inline TemplateBody, and
  OperationPreferences (concurrency, failure tolerance): accepted, not applied; every
  operation SUCCEEDS at once.
- Lambda's rule that code lives in a bucket of the function's own region, and bucket
  policies: moto reads any bucket by name (the regional rewrite is checked on the template).
- Resource types moto's CloudFormation skips (local.stackset.MOTO_SKIPS: alarms, dashboard,
  schedules, event invoke configs, the queue policy, the email subscription) are left out of
  the template moto gets, as in test_stack_creation.py.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local.emulator import LocalAccount, local_aws
from local.stackset import (
    MOTO_SKIPS,
    PREFIX,
    STACK_SET,
    Organisation,
    create_artefact_buckets,
    create_organisation,
    deploy_stack_set,
    moto_compatible,
)
from scripts import stackset_template
from scripts.stackset_template import ArtefactError, build, code_objects, sam_to_cloudformation

from . import test_stack_creation
from .cfn import load_template, sam_function_ids

pytestmark = [
    pytest.mark.template,
    pytest.mark.filterwarnings("ignore:Tried to parse AWS:UserWarning"),
]

REGIONS = ("us-east-1", "eu-west-1")
HOME = f"{PREFIX}-{REGIONS[0]}"
FUNCTIONS = sam_function_ids(load_template())


def packaged_template() -> dict[str, Any]:
    """template.yaml as `sam package` leaves it: code and layer as S3 URIs in the home bucket."""
    template = load_template()
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                name = properties[key].strip("/").split("/")[-1]
                properties[key] = f"s3://{HOME}/dynamodb-autoresponder/{name}"
    return template


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def lambda_handler(event, context):\n    return event\n")
    return buffer.getvalue()


CODE = _zip()


# --------------------------------------------------------------------------------------------
# the artefact
# --------------------------------------------------------------------------------------------
def test_the_artefact_is_plain_cloudformation_for_every_region_and_partition():
    template = build(packaged_template(), PREFIX)
    assert "Transform" not in template
    assert not [
        r for r in template["Resources"].values() if r["Type"].startswith("AWS::Serverless")
    ]
    for function_id in FUNCTIONS:
        code = template["Resources"][function_id]["Properties"]["Code"]
        assert code["S3Bucket"] == {"Fn::Sub": f"{PREFIX}-${{AWS::Region}}"}
        assert code["S3Key"].startswith("dynamodb-autoresponder/")
    text = json.dumps(template["Resources"])
    assert "us-east-1" not in text
    assert "arn:aws:" not in text  # managed policy ARNs use ${AWS::Partition}
    assert len(json.dumps(template)) > 51_200  # hence --template-url, not --template-body


def test_an_unpackaged_template_is_refused():
    with pytest.raises(ArtefactError, match="not an S3 location"):
        stackset_template.with_regional_code(
            {"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {}}}}},
            PREFIX,
        )


def test_a_template_the_translator_made_region_specific_is_refused():
    with pytest.raises(ArtefactError, match="us-east-1"):
        stackset_template.check_portable(
            {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"Name": "us-east-1"}}}}
        )


def test_the_command_writes_the_artefact(tmp_path: Path):
    packaged = tmp_path / "packaged.yaml"
    packaged.write_text(json.dumps(packaged_template()))  # JSON is YAML
    output = tmp_path / "stackset.json"
    assert (
        stackset_template.main([str(packaged), "--bucket-prefix", PREFIX, "--output", str(output)])
        == 0
    )
    assert json.loads(output.read_text()) == build(packaged_template(), PREFIX)


def test_the_local_aws_skips_the_same_types_everywhere():
    assert test_stack_creation.MOTO_SKIPS == MOTO_SKIPS


# --------------------------------------------------------------------------------------------
# deployed by a StackSet to 2 accounts x 2 regions
# --------------------------------------------------------------------------------------------
@dataclass
class Deployment:
    aws: LocalAccount
    organisation: Organisation
    operation_id: str
    copied: list[str]


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    packaged = packaged_template()
    with local_aws(REGIONS[0]) as aws:
        create_artefact_buckets(aws, PREFIX, REGIONS)
        home = aws.client("s3", REGIONS[0])
        objects = code_objects(sam_to_cloudformation(packaged))
        for bucket, key in objects:  # what `sam package` uploads: the home region only
            home.put_object(Bucket=bucket, Key=key, Body=CODE)
        copied = stackset_template.copy_to_regions(objects, PREFIX, REGIONS, aws.session())
        organisation = create_organisation(aws, members=2)
        operation = deploy_stack_set(
            aws, build(packaged, PREFIX), organisation, REGIONS, {"Stage": "prod"}
        )
        yield Deployment(aws, organisation, operation, copied)


def test_the_operation_succeeded(deployment: Deployment) -> None:
    cloudformation = deployment.aws.client("cloudformation")
    operation = cloudformation.describe_stack_set_operation(
        StackSetName=STACK_SET, OperationId=deployment.operation_id
    )["StackSetOperation"]
    assert (operation["Action"], operation["Status"]) == ("CREATE", "SUCCEEDED")
    listed = cloudformation.list_stack_set_operations(StackSetName=STACK_SET)["Summaries"]
    assert [o["OperationId"] for o in listed] == [deployment.operation_id]
    stack_set = cloudformation.describe_stack_set(StackSetName=STACK_SET)["StackSet"]
    assert stack_set["PermissionModel"] == "SERVICE_MANAGED"


def test_one_instance_per_member_account_and_region(deployment: Deployment) -> None:
    instances = deployment.aws.client("cloudformation").list_stack_instances(
        StackSetName=STACK_SET
    )["Summaries"]
    members = deployment.organisation.member_accounts
    assert len(members) == 2
    assert sorted((i["Account"], i["Region"]) for i in instances) == sorted(
        (account, region) for account in members for region in REGIONS
    )
    assert {i["Status"] for i in instances} == {"CURRENT"}
    assert {i["StackInstanceStatus"]["DetailedStatus"] for i in instances} == {"SUCCEEDED"}
    assert deployment.aws.account_id not in {i["Account"] for i in instances}  # not the manager


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("member", [0, 1])
def test_each_instance_holds_the_responder_with_its_regions_code(
    deployment: Deployment, member: int, region: str
) -> None:
    account = deployment.aws.in_account(deployment.organisation.member_accounts[member])
    (table,) = account.client("dynamodb", region).list_tables()["TableNames"]
    described = account.client("dynamodb", region).describe_table(TableName=table)["Table"]
    assert [k["AttributeName"] for k in described["KeySchema"]] == ["pk", "sk"]
    functions = account.client("lambda", region).list_functions()["Functions"]
    assert len(functions) == len(FUNCTIONS)
    sha = base64.b64encode(hashlib.sha256(CODE).digest()).decode()
    for function in functions:
        # read from <prefix>-<region>: in eu-west-1 only the copy holds it
        assert (function["CodeSize"], function["CodeSha256"]) == (len(CODE), sha)
        assert function["Runtime"] == "python3.13"
        assert function["FunctionArn"].split(":")[3:5] == [region, account.account_id]


def test_the_code_was_copied_to_the_other_region(deployment: Deployment) -> None:
    assert deployment.copied
    assert all(url.startswith(f"s3://{PREFIX}-{REGIONS[1]}/") for url in deployment.copied)


def test_nothing_is_deployed_in_the_management_account(deployment: Deployment) -> None:
    for region in REGIONS:
        assert deployment.aws.client("dynamodb", region).list_tables()["TableNames"] == []


def test_the_moto_variant_leaves_out_only_what_moto_skips() -> None:
    template = build(packaged_template(), PREFIX)
    kept = moto_compatible(template)
    left_out = {
        template["Resources"][i]["Type"]
        for i in set(template["Resources"]) - set(kept["Resources"])
    }
    assert left_out <= MOTO_SKIPS
