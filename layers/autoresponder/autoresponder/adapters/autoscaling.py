"""Application Auto Scaling: the scalable targets of DynamoDB tables and indexes."""

from __future__ import annotations

from autoresponder.adapters.aws_errors import AWS_ERRORS, translate
from autoresponder.adapters.clients import AwsAdapter
from autoresponder.models.table import Dimension, ScalableTarget


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
