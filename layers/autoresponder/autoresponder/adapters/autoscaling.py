"""Application Auto Scaling: the scalable targets of DynamoDB tables and indexes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from autoresponder.adapters.aws_errors import AWS_ERRORS, translate
from autoresponder.adapters.clients import AwsAdapter
from autoresponder.models.table import Dimension, ScalableTarget

MAX_RESOURCE_IDS = 50
"""DescribeScalableTargets takes at most 50 resource IDs per call."""


def resource_id(table_name: str, index_name: str | None) -> str:
    if index_name is None:
        return f"table/{table_name}"
    return f"table/{table_name}/index/{index_name}"


def scalable_dimension(index_name: str | None, dimension: Dimension) -> str:
    kind = "table" if index_name is None else "index"
    units = "ReadCapacityUnits" if dimension is Dimension.READ else "WriteCapacityUnits"
    return f"dynamodb:{kind}:{units}"


class ApplicationAutoScaling(AwsAdapter):
    """Implements `AutoScalingPort`."""

    service = "application-autoscaling"

    def scalable_target(
        self, table_name: str, index_name: str | None, dimension: Dimension
    ) -> ScalableTarget | None:
        rid = resource_id(table_name, index_name)
        wanted = scalable_dimension(index_name, dimension)
        try:
            answer = self.client.describe_scalable_targets(
                ServiceNamespace="dynamodb", ResourceIds=[rid], ScalableDimension=wanted
            )
        except AWS_ERRORS as exc:
            raise translate(exc, "DescribeScalableTargets", resource=rid) from exc
        for raw in answer.get("ScalableTargets", []):
            if raw["ResourceId"] == rid and raw["ScalableDimension"] == wanted:
                return ScalableTarget(
                    resource_id=rid,
                    scalable_dimension=wanted,
                    min_capacity=int(raw["MinCapacity"]),
                    max_capacity=int(raw["MaxCapacity"]),
                )
        return None

    def scalable_targets(
        self, table_name: str, index_names: Sequence[str]
    ) -> dict[tuple[str | None, Dimension], ScalableTarget]:
        """Every scalable target of the table and those GSIs, by (index or None, dimension):
        one call for up to 49 GSIs."""
        by_id: dict[str, str | None] = {resource_id(table_name, None): None}
        by_id.update({resource_id(table_name, name): name for name in index_names})
        found: dict[tuple[str | None, Dimension], ScalableTarget] = {}
        ids = list(by_id)
        for first in range(0, len(ids), MAX_RESOURCE_IDS):
            kwargs: dict[str, Any] = {
                "ServiceNamespace": "dynamodb",
                "ResourceIds": ids[first : first + MAX_RESOURCE_IDS],
            }
            try:
                while True:
                    answer = self.client.describe_scalable_targets(**kwargs)
                    for raw in answer.get("ScalableTargets", []):
                        rid = raw["ResourceId"]
                        dimension = (
                            Dimension.READ
                            if raw["ScalableDimension"].endswith("ReadCapacityUnits")
                            else Dimension.WRITE
                        )
                        if rid in by_id:
                            found[(by_id[rid], dimension)] = ScalableTarget(
                                resource_id=rid,
                                scalable_dimension=raw["ScalableDimension"],
                                min_capacity=int(raw["MinCapacity"]),
                                max_capacity=int(raw["MaxCapacity"]),
                            )
                    if not answer.get("NextToken"):
                        break
                    kwargs["NextToken"] = answer["NextToken"]
            except AWS_ERRORS as exc:
                raise translate(exc, "DescribeScalableTargets", table=table_name) from exc
        return found

    def set_limits(self, target: ScalableTarget, min_capacity: int, max_capacity: int) -> None:
        try:
            self.client.register_scalable_target(
                ServiceNamespace="dynamodb",
                ResourceId=target.resource_id,
                ScalableDimension=target.scalable_dimension,
                MinCapacity=min_capacity,
                MaxCapacity=max_capacity,
            )
        except AWS_ERRORS as exc:
            raise translate(exc, "RegisterScalableTarget", resource=target.resource_id) from exc
