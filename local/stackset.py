"""`python -m local.stackset` (`make package-local`): the organisation-wide recipe, end to end,
against the embedded local AWS. No AWS account, no credentials.

1. Start the local AWS; create the artefact buckets `<prefix>-<region>` of two regions.
2. `sam package` (the SAM CLI in .venv-sam, told `AWS_ENDPOINT_URL`) uploads the built
   template's code to the first region's bucket and writes `.aws-sam/packaged.yaml`.
3. `scripts/stackset_template` expands it into `.aws-sam/stackset.json` (no transform, code
   from `<prefix>-${AWS::Region}`), copies the code to the second region's bucket.
4. An organisation with an OU holding two member accounts; the StackSet (service-managed
   permissions, auto-deployment on) from that template; stack instances for the OU in both
   regions, as the README's "Organisation-wide" commands ask of CloudFormation.
5. Each instance, and what it holds in its account and region.

What the local AWS (moto 5) does not do is said as it goes (README, "Organisation-wide"):
it ignores AutoDeployment (no instance appears when an account joins the OU later), checks no
trusted access, execution role or bucket policy, and skips some resource types; the variant of
the template it is given leaves those out (`moto_compatible`), the file written in step 3 is
the one to give AWS.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local import ROOT
from local.emulator import LocalAccount, local_aws
from scripts import stackset_template

STACK_SET = "dynamodb-autoresponder"
PREFIX = "acme-autoresponder-artifacts"
REGIONS = ("us-east-1", "eu-west-1")
MOTO_SKIPS = frozenset(
    {
        "AWS::CloudWatch::Alarm",
        "AWS::CloudWatch::Dashboard",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::SNS::Subscription",
        "AWS::SNS::TopicPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::Scheduler::Schedule",
        "AWS::Scheduler::ScheduleGroup",
    }
)
"""Resource types moto 5's CloudFormation does not create (tests/template/test_stack_creation.py
keeps the same list; a test checks they agree)."""


def moto_compatible(template: dict[str, Any]) -> dict[str, Any]:
    """`template` without the resource types moto skips, nor the outputs naming them (moto
    rejects a Fn::GetAtt naming a skipped resource)."""
    skipped = {i for i, r in template["Resources"].items() if r["Type"] in MOTO_SKIPS}

    def names_skipped(node: Any) -> bool:
        text = json.dumps(node)
        return any(
            f'"Ref": "{i}"' in text or f'["{i}", ' in text or f"${{{i}" in text for i in skipped
        )

    return {
        **template,
        "Resources": {i: r for i, r in template["Resources"].items() if i not in skipped},
        "Outputs": {k: v for k, v in template.get("Outputs", {}).items() if not names_skipped(v)},
    }


@dataclass(frozen=True)
class Organisation:
    root_id: str
    ou_id: str
    member_accounts: tuple[str, ...]


def create_organisation(aws: LocalAccount, members: int = 2) -> Organisation:
    """An organisation (all features) managed by `aws`'s account, an OU and `members` member
    accounts moved into it."""
    organizations = aws.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    root = organizations.list_roots()["Roots"][0]["Id"]
    ou = organizations.create_organizational_unit(ParentId=root, Name="workloads")
    ou_id = ou["OrganizationalUnit"]["Id"]
    accounts = []
    for n in range(members):
        status = organizations.create_account(
            Email=f"workload-{n}@example.com", AccountName=f"workload-{n}"
        )["CreateAccountStatus"]
        organizations.move_account(
            AccountId=status["AccountId"], SourceParentId=root, DestinationParentId=ou_id
        )
        accounts.append(status["AccountId"])
    return Organisation(root, ou_id, tuple(accounts))


def create_artefact_buckets(aws: LocalAccount, prefix: str, regions: Sequence[str]) -> None:
    for region in regions:
        location = {} if region == "us-east-1" else {"LocationConstraint": region}
        kwargs = {"CreateBucketConfiguration": location} if location else {}
        aws.client("s3", region).create_bucket(Bucket=f"{prefix}-{region}", **kwargs)


def deploy_stack_set(
    aws: LocalAccount,
    template: dict[str, Any],
    organisation: Organisation,
    regions: Sequence[str],
    parameters: dict[str, str],
    *,
    prefix: str = PREFIX,
) -> str:
    """The README's commands: CreateStackSet (service-managed, auto-deployment) from a template
    URL, then CreateStackInstances for the OU in `regions`. Returns the operation id."""
    key = "stackset/local.json"
    body = json.dumps(moto_compatible(template))
    url = stackset_template.upload(body, f"{prefix}-{regions[0]}", key, regions[0], aws.session())
    cloudformation = aws.client("cloudformation")
    cloudformation.create_stack_set(
        StackSetName=STACK_SET,
        Description="DynamoDB auto-responder in every account of the OU",
        TemplateURL=url,
        PermissionModel="SERVICE_MANAGED",
        AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False},
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )
    answer = cloudformation.create_stack_instances(
        StackSetName=STACK_SET,
        DeploymentTargets={"OrganizationalUnitIds": [organisation.ou_id]},
        Regions=list(regions),
        OperationPreferences={
            "RegionConcurrencyType": "PARALLEL",
            "MaxConcurrentPercentage": 100,
            "FailureTolerancePercentage": 0,
        },
    )
    return str(answer["OperationId"])


def sam_package(sam: Path, built: Path, bucket: str, region: str, output: Path) -> None:
    """`sam package` of the built template, against whatever AWS_ENDPOINT_URL names."""
    subprocess.run(
        [
            str(sam),
            "package",
            "--template-file",
            str(built),
            "--s3-bucket",
            bucket,
            "--s3-prefix",
            "dynamodb-autoresponder",
            "--region",
            region,
            "--output-template-file",
            str(output),
            "--no-progressbar",
        ],
        check=True,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.stackset", description=__doc__)
    parser.add_argument("--sam", type=Path, default=ROOT / ".venv-sam" / "bin" / "sam")
    parser.add_argument("--built", type=Path, default=ROOT / ".aws-sam" / "build" / "template.yaml")
    parser.add_argument("--out", type=Path, default=ROOT / ".aws-sam")
    args = parser.parse_args(argv)
    if not args.built.exists():
        print(f"{args.built} is missing: run `make build` first", file=sys.stderr)
        return 2
    packaged, stackset = args.out / "packaged.yaml", args.out / "stackset.json"
    with local_aws(REGIONS[0]) as aws:
        print(f"local AWS at {aws.endpoint_url}; management account {aws.account_id}")
        create_artefact_buckets(aws, PREFIX, REGIONS)
        sam_package(args.sam, args.built, f"{PREFIX}-{REGIONS[0]}", REGIONS[0], packaged)
        arguments = [str(packaged), "--output", str(stackset), "--bucket-prefix", PREFIX]
        code = stackset_template.main([*arguments, "--regions", *REGIONS, "--copy"])
        if code:
            return code
        organisation = create_organisation(aws)
        template = json.loads(stackset.read_text())
        operation = deploy_stack_set(aws, template, organisation, REGIONS, {"Stage": "prod"})
        cloudformation = aws.client("cloudformation")
        status = cloudformation.describe_stack_set_operation(
            StackSetName=STACK_SET, OperationId=operation
        )["StackSetOperation"]["Status"]
        print(f"StackSet {STACK_SET}: OU {organisation.ou_id} x {', '.join(REGIONS)}: {status}")
        instances = cloudformation.list_stack_instances(StackSetName=STACK_SET)["Summaries"]
        for instance in sorted(instances, key=lambda i: (i["Account"], i["Region"])):
            member = aws.in_account(instance["Account"])
            tables = member.client("dynamodb", instance["Region"]).list_tables()["TableNames"]
            functions = member.client("lambda", instance["Region"]).list_functions()["Functions"]
            with_code = sum(1 for f in functions if f["CodeSize"] > 0)
            print(
                f"  {instance['Account']} {instance['Region']:<10} {instance['Status']:<8}"
                f" tables {tables}, {len(functions)} functions ({with_code} with code)"
            )
        skipped = sorted(MOTO_SKIPS & {r["Type"] for r in template["Resources"].values()})
        print(
            f"{stackset} is the template to give AWS. The local AWS got it without "
            f"{', '.join(skipped)} (moto does not create them), ignores AutoDeployment and "
            "checks no trusted access, execution role or bucket policy."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
