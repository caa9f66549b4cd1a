"""The demo account: the tables, metrics and alarms the sample events in `events/` are about.

`seed_demo_account` works on any account its clients point to: the embedded local AWS
(`local.emulator.local_aws()`) or `moto.mock_aws()` in-process, for tests. Plain moto lacks
what `local.emulator` adds: there, `clickstream` reports no on-demand caps and the composite
alarm `autoresponder-orders-composite` is not created.

| table         | capacity                          | tags                   | events              |
|---------------|-----------------------------------|------------------------|---------------------|
| `orders`      | 100 RCU / 50 WCU; GSI             | managed,               | write/read, GSI,    |
|               | `by-customer` 50 / 25             | max-write-units 1000   | key range, composite|
| `profiles`    | 200 / 100; Auto Scaling targets   | managed                | autoscaled          |
|               | read 100-400, write 50-200        |                        |                     |
| `clickstream` | on demand; caps 2000 R / 1000 W   | managed                | on-demand max,      |
|               |                                   |                        | account limit       |
| `inventory`   | 50 / 50                           | managed, dry-run       | dry run, metric math|
| `legacy`      | 10 / 10                           | none                   | unmanaged           |
| `carts`       | 100 / 20                          | managed                | read+write alarm    |
| `catalog`     | 100 / 50                          | managed                | missing-data alarm  |

The throttle and capacity metrics each sample alarm is about are published just before the
event runs (`local/event_metrics.py`), as DynamoDB would have published them.

Latency (`SuccessfulRequestLatency`, for the two latency events, at their fixed moments):
`local/latency_demo.py`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from local.latency_demo import put_latency_metrics

DECISION_TABLE = "autoresponder-decisions"
TOPIC = "autoresponder-notifications"
INBOX_QUEUE = "autoresponder-notifications-inbox"
RECHECK_GROUP = "autoresponder-rechecks"
"""template.yaml `RecheckScheduleGroup` (`${AWS::StackName}-rechecks`)."""
RECHECK_ROLE = "autoresponder-recheck-scheduler"
"""template.yaml `RecheckSchedulerRole`: Scheduler assumes it to invoke scale_back."""
MANAGED = {"autoresponder:managed": "true"}


@dataclass(frozen=True)
class DemoIndex:
    name: str
    keys: tuple[str, ...]
    capacity: tuple[int, int] | None = None


@dataclass(frozen=True)
class DemoTable:
    name: str
    keys: tuple[str, ...]
    """Partition key, then the sort key if any (all strings)."""
    capacity: tuple[int, int] | None
    """(read, write) provisioned units; None for on-demand."""
    tags: Mapping[str, str] = field(default_factory=dict)
    on_demand_max: tuple[int, int] | None = None
    """(MaxReadRequestUnits, MaxWriteRequestUnits) of an on-demand table."""
    indexes: tuple[DemoIndex, ...] = ()
    autoscaling: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    """"read"/"write" → (MinCapacity, MaxCapacity) of an Application Auto Scaling target."""


DEMO_TABLES = (
    DemoTable(
        "orders",
        ("customer_id", "order_id"),
        (100, 50),
        {**MANAGED, "autoresponder:max-write-units": "1000"},
        indexes=(DemoIndex("by-customer", ("customer_id", "created_at"), (50, 25)),),
    ),
    DemoTable(
        "profiles",
        ("profile_id",),
        (200, 100),
        MANAGED,
        autoscaling={"read": (100, 400), "write": (50, 200)},
    ),
    DemoTable(
        "clickstream", ("session_id", "event_time"), None, MANAGED, on_demand_max=(2000, 1000)
    ),
    DemoTable("inventory", ("sku",), (50, 50), {**MANAGED, "autoresponder:dry-run": "true"}),
    DemoTable("legacy", ("id",), (10, 10)),
    DemoTable("carts", ("cart_id",), (100, 20), MANAGED),
    DemoTable("catalog", ("sku",), (100, 50), MANAGED),
)

THROTTLE_ALARMS = (
    # (alarm, table, metric): the children of the composite alarm
    (
        "autoresponder-orders-write-provisioned-throttle",
        "orders",
        "WriteProvisionedThroughputThrottleEvents",
    ),
    (
        "autoresponder-orders-read-provisioned-throttle",
        "orders",
        "ReadProvisionedThroughputThrottleEvents",
    ),
)
COMPOSITE_ALARM = "autoresponder-orders-composite"


@dataclass(frozen=True)
class DemoAccount:
    """What the demo and the tests need to know of the seeded account."""

    account_id: str
    region: str
    decision_table_name: str
    topic_arn: str
    queue_url: str
    queue_arn: str
    tables: tuple[str, ...]
    alarms: tuple[str, ...]
    recheck_group: str = RECHECK_GROUP

    @property
    def scale_back_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:scale_back"

    def function_environment(self) -> dict[str, str]:
        """The settings every function requires (docs/architecture.md contracts), and the
        re-checks' (template.yaml Globals and ScaleOnThrottle's RECHECK_TARGET_ARN)."""
        return {
            "DECISION_TABLE_NAME": self.decision_table_name,
            "NOTIFICATION_TOPIC_ARN": self.topic_arn,
            "RECHECK_SCHEDULE_GROUP": self.recheck_group,
            "RECHECK_ROLE_ARN": f"arn:aws:iam::{self.account_id}:role/{RECHECK_ROLE}",
            "RECHECK_TARGET_ARN": self.scale_back_arn,
        }


class _Clients:
    """A boto3 session, or a mapping of ready clients by service name."""

    def __init__(self, source: Any) -> None:
        self._source = source
        self._made: dict[str, Any] = {}

    def __call__(self, service: str) -> Any:
        if isinstance(self._source, Mapping):
            return self._source[service]
        if service not in self._made:
            self._made[service] = self._source.client(service)
        return self._made[service]


def seed_demo_account(session_or_clients: Any, *, composite_children: bool = True) -> DemoAccount:
    """Create the demo account's resources (the metrics of a sample event are published just
    before it runs: `local.event_metrics.publish_for`).

    `session_or_clients`: a `boto3.session.Session`, or a mapping with clients for
    `dynamodb`, `sns`, `sqs`, `cloudwatch`, `application-autoscaling` and `scheduler`.
    `composite_children`: also create the composite alarm's children, alarms onboard_tables
    makes (`make invoke` of one event needs them); False where onboard_tables runs first and
    creates them itself (`make demo`, in the order of real use).
    """
    clients = _Clients(session_or_clients)
    _create_decision_table(clients("dynamodb"))
    topic_arn, queue_url, queue_arn = _create_notifications(clients("sns"), clients("sqs"))
    for table in DEMO_TABLES:
        _create_table(clients("dynamodb"), table)
        _register_autoscaling(clients("application-autoscaling"), table)
    put_latency_metrics(clients("cloudwatch"))
    alarms = _put_alarms(clients("cloudwatch"), with_children=composite_children)
    clients("scheduler").create_schedule_group(Name=RECHECK_GROUP)
    _, _, _, region, account_id, _ = topic_arn.split(":", 5)
    return DemoAccount(
        account_id=account_id,
        region=region,
        decision_table_name=DECISION_TABLE,
        topic_arn=topic_arn,
        queue_url=queue_url,
        queue_arn=queue_arn,
        tables=tuple(t.name for t in DEMO_TABLES),
        alarms=alarms,
    )


def _create_decision_table(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName=DECISION_TABLE,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=DECISION_TABLE,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )


def _create_notifications(sns: Any, sqs: Any) -> tuple[str, str, str]:
    """The topic, and an SQS inbox subscribed to it (envelope delivery: Subject, Message and
    MessageAttributes stay readable)."""
    topic_arn = sns.create_topic(Name=TOPIC)["TopicArn"]
    queue_url = sqs.create_queue(QueueName=INBOX_QUEUE)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TopicDelivers",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return topic_arn, queue_url, queue_arn


def _key_schema(keys: tuple[str, ...]) -> list[dict[str, str]]:
    return [
        {"AttributeName": name, "KeyType": kind}
        for name, kind in zip(keys, ("HASH", "RANGE"), strict=False)
    ]


def _throughput(capacity: tuple[int, int]) -> dict[str, int]:
    return {"ReadCapacityUnits": capacity[0], "WriteCapacityUnits": capacity[1]}


def _create_table(dynamodb: Any, table: DemoTable) -> None:
    attributes = sorted({*table.keys, *(k for i in table.indexes for k in i.keys)})
    kwargs: dict[str, Any] = {
        "TableName": table.name,
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in attributes],
        "KeySchema": _key_schema(table.keys),
        "Tags": [{"Key": k, "Value": v} for k, v in table.tags.items()],
    }
    if table.capacity is None:
        kwargs["BillingMode"] = "PAY_PER_REQUEST"
    else:
        kwargs["BillingMode"] = "PROVISIONED"
        kwargs["ProvisionedThroughput"] = _throughput(table.capacity)
    if table.on_demand_max is not None:
        kwargs["OnDemandThroughput"] = {
            "MaxReadRequestUnits": table.on_demand_max[0],
            "MaxWriteRequestUnits": table.on_demand_max[1],
        }
    if table.indexes:
        kwargs["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": _key_schema(index.keys),
                "Projection": {"ProjectionType": "ALL"},
                **(
                    {"ProvisionedThroughput": _throughput(index.capacity)} if index.capacity else {}
                ),
            }
            for index in table.indexes
        ]
    dynamodb.create_table(**kwargs)


def _register_autoscaling(autoscaling: Any, table: DemoTable) -> None:
    for dimension, (low, high) in table.autoscaling.items():
        units = "ReadCapacityUnits" if dimension == "read" else "WriteCapacityUnits"
        autoscaling.register_scalable_target(
            ServiceNamespace="dynamodb",
            ResourceId=f"table/{table.name}",
            ScalableDimension=f"dynamodb:table:{units}",
            MinCapacity=low,
            MaxCapacity=high,
        )


def _put_alarms(cloudwatch: Any, *, with_children: bool = True) -> tuple[str, ...]:
    for name, table, metric in THROTTLE_ALARMS if with_children else ():
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            AlarmDescription=f"{metric} on table {table}",
            Namespace="AWS/DynamoDB",
            MetricName=metric,
            Dimensions=[{"Name": "TableName", "Value": table}],
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=0.0,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching",
        )
    children = " OR ".join(f'ALARM("{name}")' for name, _, _ in THROTTLE_ALARMS)
    names = tuple(name for name, _, _ in THROTTLE_ALARMS) if with_children else ()
    try:
        cloudwatch.put_composite_alarm(
            AlarmName=COMPOSITE_ALARM,
            AlarmDescription="Table orders is throttled (reads or writes).",
            AlarmRule=children,
        )
    except (ClientError, NotImplementedError):
        # Plain moto (`mock_aws()`) lacks PutCompositeAlarm; the local AWS adds it. The
        # runbooks read only the child alarms, so the account works without the composite.
        return names
    return (*names, COMPOSITE_ALARM)
