"""The responder's tags, read one way by every runbook: `autoresponder:managed` as IAM reads it."""

from __future__ import annotations

import pytest

from autoresponder.domain.alarm_plan import coverage_of
from autoresponder.models.onboarding import ObservedScalableTarget
from autoresponder.models.table import TablePolicy
from autoresponder.models.tags import MANAGED_TAG, is_managed, wants_dry_run

# IAM's `StringEquals aws:ResourceTag/autoresponder:managed: "true"`: case-sensitive, untrimmed.
MANAGED_VALUES = [
    pytest.param("true", True, id="true"),
    pytest.param("TRUE", False, id="upper"),
    pytest.param("True", False, id="capitalised"),
    pytest.param(" true", False, id="blank-before"),
    pytest.param("true ", False, id="blank-after"),
    pytest.param("yes", False, id="yes"),
    pytest.param("", False, id="empty"),
    pytest.param("false", False, id="false"),
]


@pytest.mark.parametrize(("value", "expected"), MANAGED_VALUES)
def test_managed_tag_is_read_exactly_as_iam_reads_it(value, expected):
    tags = {MANAGED_TAG: value}
    assert is_managed(tags) is expected
    # every reader goes through the one parser: the table policy (scale_on_throttle,
    # scale_back, flag_hot_keys, report_latency_regression), onboarding's coverage and the
    # scalable targets' own tag
    assert TablePolicy.from_tags(tags).managed is expected
    assert (coverage_of("orders", tags, set()) is not None) is expected
    target = ObservedScalableTarget(
        resource_id="table/orders",
        scalable_dimension="dynamodb:table:WriteCapacityUnits",
        arn="arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/x",
        tags=tags,
    )
    assert target.tagged is expected


def test_no_tag_is_not_managed():
    assert is_managed({}) is False
    assert TablePolicy.from_tags({}).managed is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("TRUE", True), (" true ", True), ("false", False), ("", False)],
)
def test_dry_run_tag_counts_any_spelling_of_true(value, expected):
    # dry run withdraws permission: reading it loosely errs on the side of changing nothing
    tags = {"autoresponder:dry-run": value}
    assert wants_dry_run(tags) is expected
    assert TablePolicy.from_tags(tags).dry_run is expected
