"""The `autoresponder:managed` tag on the Application Auto Scaling scalable targets of a table.

IAM lets the runbooks call RegisterScalableTarget only on targets tagged
`autoresponder:managed=true` (`aws:ResourceTag` reads the target's own tags), so onboard_tables
keeps that tag on the targets of managed tables. It adds or removes that one tag, never others.
"""

from __future__ import annotations

from collections.abc import Sequence

from autoresponder.adapters.autoscaling import resource_id
from autoresponder.adapters.aws_errors import AWS_ERRORS, translate
from autoresponder.adapters.clients import AwsAdapter
from autoresponder.models.onboarding import SCALABLE_TARGET_TAG, ObservedScalableTarget


class ScalableTargetTags(AwsAdapter):
    """Implements `ScalableTargetTagger`."""

    service = "application-autoscaling"

    def targets(self, table_name: str, index_names: Sequence[str]) -> list[ObservedScalableTarget]:
        """Every scalable target of the table and the given GSIs, with its tags."""
        ids = [resource_id(table_name, None), *(resource_id(table_name, i) for i in index_names)]
        found: list[ObservedScalableTarget] = []
        try:
            pages = self.client.get_paginator("describe_scalable_targets").paginate(
                ServiceNamespace="dynamodb", ResourceIds=ids
            )
            raws = [raw for page in pages for raw in page.get("ScalableTargets", [])]
        except AWS_ERRORS as exc:
            raise translate(exc, "DescribeScalableTargets", table=table_name) from exc
        for raw in raws:
            if raw["ResourceId"] not in ids or not raw.get("ScalableTargetARN"):
                continue
            arn = raw["ScalableTargetARN"]
            found.append(
                ObservedScalableTarget(
                    resource_id=raw["ResourceId"],
                    scalable_dimension=raw["ScalableDimension"],
                    arn=arn,
                    tags=self._tags(arn),
                )
            )
        return found

    def _tags(self, arn: str) -> dict[str, str]:
        try:
            answer = self.client.list_tags_for_resource(ResourceARN=arn)
        except AWS_ERRORS as exc:
            raise translate(exc, "ListTagsForResource", scalable_target=arn) from exc
        return dict(answer.get("Tags", {}))

    def tag(self, target: ObservedScalableTarget) -> None:
        try:
            self.client.tag_resource(ResourceARN=target.arn, Tags={SCALABLE_TARGET_TAG: "true"})
        except AWS_ERRORS as exc:
            raise translate(exc, "TagResource", scalable_target=target.arn) from exc

    def untag(self, target: ObservedScalableTarget) -> None:
        try:
            self.client.untag_resource(ResourceARN=target.arn, TagKeys=[SCALABLE_TARGET_TAG])
        except AWS_ERRORS as exc:
            raise translate(exc, "UntagResource", scalable_target=target.arn) from exc
