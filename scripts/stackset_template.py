#!/usr/bin/env python3
"""The StackSet artefact: the packaged SAM template as plain CloudFormation, code in every region.

    python -m scripts.stackset_template .aws-sam/packaged.yaml \\
        --bucket-prefix acme-autoresponder-artifacts [--regions us-east-1 eu-west-1] \\
        [--output .aws-sam/stackset.json] [--copy] [--upload]

`make package` runs it after `sam package`. Three things a StackSet needs that `sam deploy`
does not:

1. **No transform.** StackSets with service-managed permissions take no macros, and
   `AWS::Serverless-2016-10-31` is one. The SAM transform is run here, offline, with the
   translator CloudFormation itself runs (aws-sam-translator, the same the template tests use):
   the result has no `Transform` and no `AWS::Serverless::*` resource.
2. **Code in the instance's region.** Lambda reads a function's zip (and a layer's) only from
   a bucket in the function's own region. Every `Code`/`Content` location is rewritten to the
   bucket `<bucket-prefix>-${AWS::Region}`; `--copy` copies each object `sam package` uploaded
   to the first region's bucket into the other regions' buckets, same key. The buckets must
   exist and let the organisation read them (README, "Organisation-wide").
3. **Size.** CreateStackSet takes at most 51,200 bytes inline; the expanded template is
   larger. `--upload` puts it next to the code in the first region's bucket and prints the
   `--template-url` to give CreateStackSet / UpdateStackSet.

Nothing is resolved for one account or region: the pseudo parameters stay intrinsic (the AWS
managed policy ARNs the translator writes for its partition become `${AWS::Partition}`), so
one template serves every stack instance; a check fails the run if the translator's region or
a literal `arn:aws:` is left in the resources.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import boto3
from cfnlint.decode import cfn_yaml
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

TRANSFORM_REGION = "us-east-1"
"""The region the offline translator is told about (it needs one); nothing of it may remain."""
_CODE = {"AWS::Lambda::Function": "Code", "AWS::Lambda::LayerVersion": "Content"}
_SAM_PREFIX = "AWS::Serverless::"
_AWS_MANAGED = "arn:aws:iam::aws:policy/"


class ArtefactError(RuntimeError):
    """The template cannot serve every account and region as it is."""


def load(path: Path) -> dict[str, Any]:
    """A SAM or CloudFormation template (YAML with short intrinsic tags, or JSON) as plain
    dicts, lists and strings."""
    return dict(json.loads(json.dumps(cfn_yaml.load(str(path)))))


def sam_to_cloudformation(
    template: dict[str, Any],
    parameter_values: dict[str, Any] | None = None,
    *,
    region: str = TRANSFORM_REGION,
) -> dict[str, Any]:
    """What the `AWS::Serverless-2016-10-31` transform makes of `template`, computed offline.

    Function code and layer content must already be S3 locations (a packaged template).
    Policies name no AWS managed policy by name, so no IAM lookup is needed."""
    translator = Translator(
        managed_policy_map=None,
        sam_parser=Parser(),
        boto_session=boto3.session.Session(region_name=region),
    )
    translated: dict[str, Any] = translator.translate(
        copy.deepcopy(template),
        parameter_values=dict(parameter_values or {}),
        get_managed_policy_map=dict,
    )
    return translated


def with_regional_code(template: dict[str, Any], bucket_prefix: str) -> dict[str, Any]:
    """`template` with every function's code and layer's content read from the bucket
    `<bucket_prefix>-${AWS::Region}` (same key)."""
    result = copy.deepcopy(template)
    for logical_id, resource in result["Resources"].items():
        key = _CODE.get(resource["Type"])
        if key is None:
            continue
        location = resource["Properties"].get(key)
        if not isinstance(location, dict) or "S3Key" not in location:
            raise ArtefactError(f"{logical_id}: {key} is not an S3 location (package first)")
        location["S3Bucket"] = {"Fn::Sub": f"{bucket_prefix}-${{AWS::Region}}"}
    return result


def with_partition_neutral_policies(template: dict[str, Any]) -> dict[str, Any]:
    """AWS managed policy ARNs the translator wrote for its region's partition
    (`arn:aws:iam::aws:policy/...`) as `arn:${AWS::Partition}:...`."""
    result = copy.deepcopy(template)
    for resource in result["Resources"].values():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        arns = resource["Properties"].get("ManagedPolicyArns", [])
        resource["Properties"]["ManagedPolicyArns"] = [
            {"Fn::Sub": arn.replace(_AWS_MANAGED, "arn:${AWS::Partition}:iam::aws:policy/", 1)}
            if isinstance(arn, str) and arn.startswith(_AWS_MANAGED)
            else arn
            for arn in arns
        ]
    return result


def code_objects(template: dict[str, Any]) -> list[tuple[str, str]]:
    """(bucket, key) of every function's code and layer's content, as literals."""
    found = []
    for resource in template["Resources"].values():
        key = _CODE.get(resource["Type"])
        if key is not None:
            location = resource["Properties"][key]
            found.append((str(location["S3Bucket"]), str(location["S3Key"])))
    return sorted(set(found))


def check_portable(template: dict[str, Any], region: str = TRANSFORM_REGION) -> None:
    """Fail when the result cannot be a StackSet template: a transform or a SAM resource left,
    or the translator's region (or partition, as a literal ARN prefix) baked in."""
    if "Transform" in template:
        raise ArtefactError(f"a transform is left: {template['Transform']}")
    sam = [i for i, r in template["Resources"].items() if r["Type"].startswith(_SAM_PREFIX)]
    if sam:
        raise ArtefactError(f"SAM resources left: {', '.join(sorted(sam))}")
    text = json.dumps(template["Resources"])
    if region in text or "arn:aws:" in text:
        raise ArtefactError(
            f"the translator wrote {region!r} or a literal arn:aws: ARN into the resources: "
            "one template must serve every region and partition"
        )


def build(packaged: dict[str, Any], bucket_prefix: str) -> dict[str, Any]:
    """The StackSet template from a packaged SAM template."""
    expanded = sam_to_cloudformation(packaged)
    expanded = with_partition_neutral_policies(with_regional_code(expanded, bucket_prefix))
    check_portable(expanded)
    return expanded


def copy_to_regions(
    objects: Iterable[tuple[str, str]],
    bucket_prefix: str,
    regions: Sequence[str],
    session: Any = None,
) -> list[str]:
    """Copy each object of the first region's bucket into the other regions' buckets."""
    session = session or boto3.session.Session()
    copied = []
    for region in regions[1:]:
        s3 = session.client("s3", region_name=region)
        target = f"{bucket_prefix}-{region}"
        for bucket, key in objects:
            s3.copy_object(Bucket=target, Key=key, CopySource={"Bucket": bucket, "Key": key})
            copied.append(f"s3://{target}/{key}")
    return copied


def upload(body: str, bucket: str, key: str, region: str, session: Any = None) -> str:
    """Put the template in S3; return its URL for --template-url."""
    session = session or boto3.session.Session()
    session.client("s3", region_name=region).put_object(
        Bucket=bucket, Key=key, Body=body.encode(), ContentType="application/json"
    )
    return f"https://{bucket}.s3.{region}.amazonaws.com/{key}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("packaged", type=Path, help="the template `sam package` wrote")
    parser.add_argument("--output", type=Path, default=Path(".aws-sam/stackset.json"))
    parser.add_argument(
        "--bucket-prefix",
        required=True,
        help="artefact buckets are <prefix>-<region>; sam package uploaded to the first region's",
    )
    parser.add_argument("--regions", nargs="*", default=[], help="regions of the stack instances")
    parser.add_argument("--copy", action="store_true", help="copy the code to every region")
    parser.add_argument("--upload", action="store_true", help="put the template next to the code")
    args = parser.parse_args(argv)
    if (args.copy or args.upload) and not args.regions:
        parser.error("--copy and --upload need --regions (the first is where the code is)")

    packaged = load(args.packaged)
    try:
        template = build(packaged, args.bucket_prefix)
    except ArtefactError as exc:
        print(f"stackset_template: {exc}", file=sys.stderr)
        return 1
    body = json.dumps(template, indent=1, sort_keys=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(body + "\n")
    print(f"StackSet template: {args.output} ({len(body.encode()):,} bytes, no transform)")
    if args.copy:
        objects = code_objects(sam_to_cloudformation(packaged))
        home = f"{args.bucket_prefix}-{args.regions[0]}"
        strays = sorted({bucket for bucket, _ in objects} - {home})
        if strays:
            print(f"stackset_template: code is in {strays}, not in {home}", file=sys.stderr)
            return 1
        for url in copy_to_regions(objects, args.bucket_prefix, args.regions):
            print(f"copied {url}")
    if args.upload:
        version = packaged.get("Metadata", {}).get("AWS::ServerlessRepo::Application", {})
        key = f"stackset/dynamodb-autoresponder-{version.get('SemanticVersion', 'dev')}.json"
        url = upload(body, f"{args.bucket_prefix}-{args.regions[0]}", key, args.regions[0])
        print(f"--template-url {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
