"""domain.alarm_plan: the alarms a covered table gets, their names, and the reconcile diff."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autoresponder.domain.alarm_plan import (
    MAX_ALARM_NAME,
    AlarmPolicy,
    alarm_name,
    coverage_of,
    desired_alarms,
    diff_table,
    insights_to_enable,
    offboard_diff,
    parse_watch_list,
    served_operations,
    tables_with_alarms,
    target_tag_changes,
)
from autoresponder.models.hot_keys import InsightsStatus
from autoresponder.models.onboarding import (
    CREATED_BY_TAG,
    AlarmDefinition,
    AlarmKind,
    Coverage,
    ObservedAlarm,
    ObservedScalableTarget,
    OnboardAction,
)
from tests.builders import on_demand_table, provisioned_table

POLICY = AlarmPolicy()
OPS = ("GetItem", "Query")


def observed(alarm: AlarmDefinition, **changes: object) -> ObservedAlarm:
    """The alarm as the responder created it (optionally with an edited definition)."""
    spec = alarm.spec.model_copy(update=changes) if changes else alarm.spec
    return ObservedAlarm(name=alarm.name, tags=alarm.tags, spec=spec)


def account_of(alarms: list[AlarmDefinition]) -> dict[str, ObservedAlarm]:
    return {a.name: observed(a) for a in alarms}


def by_name(alarms: list[AlarmDefinition]) -> dict[str, AlarmDefinition]:
    return {a.name: a for a in alarms}


# --------------------------------------------------------------------------------------------
# the wanted alarms
# --------------------------------------------------------------------------------------------
def test_provisioned_table_with_a_gsi_gets_capacity_key_range_and_latency_alarms():
    table = provisioned_table("orders", indexes={"by-customer": (50, 25)})
    alarms = by_name(desired_alarms(table, OPS, POLICY))
    assert set(alarms) == {
        "autoresponder-orders-read-provisioned-throttle",
        "autoresponder-orders-write-provisioned-throttle",
        "autoresponder-orders-read-key-range-throttle",
        "autoresponder-orders-write-key-range-throttle",
        "autoresponder-orders-by-customer-read-provisioned-throttle",
        "autoresponder-orders-by-customer-write-provisioned-throttle",
        "autoresponder-orders-by-customer-read-key-range-throttle",
        "autoresponder-orders-by-customer-write-key-range-throttle",
        "autoresponder-orders-read-above-provisioned",
        "autoresponder-orders-write-above-provisioned",
        "autoresponder-orders-by-customer-read-above-provisioned",
        "autoresponder-orders-by-customer-write-above-provisioned",
        "autoresponder-orders-latency-GetItem",
        "autoresponder-orders-latency-Query",
    }
    gsi = alarms["autoresponder-orders-by-customer-write-provisioned-throttle"]
    assert gsi.spec.metric_name == "WriteProvisionedThroughputThrottleEvents"
    assert gsi.spec.dimension_map == {
        "TableName": "orders",
        "GlobalSecondaryIndexName": "by-customer",
    }
    assert gsi.tags == {
        CREATED_BY_TAG: "onboard_tables",
        "autoresponder:table": "orders",
        "autoresponder:index": "by-customer",
        "autoresponder:kind": "write-provisioned-throttle",
    }


def test_on_demand_table_gets_max_on_demand_alarms_instead_of_provisioned():
    alarms = by_name(desired_alarms(on_demand_table("clickstream"), (), POLICY))
    kinds = {a.kind for a in alarms.values()}
    assert kinds == {
        AlarmKind.READ_MAX_ON_DEMAND,
        AlarmKind.WRITE_MAX_ON_DEMAND,
        AlarmKind.READ_KEY_RANGE,
        AlarmKind.WRITE_KEY_RANGE,
    }
    assert (
        alarms["autoresponder-clickstream-read-max-on-demand-throttle"].spec.metric_name
        == "ReadMaxOnDemandThroughputThrottleEvents"
    )


def test_throttle_alarm_fires_on_any_throttled_request_in_a_minute():
    (alarm,) = [
        a
        for a in desired_alarms(provisioned_table("orders"), (), POLICY)
        if a.kind is AlarmKind.WRITE_PROVISIONED
    ]
    spec = alarm.spec
    assert (spec.namespace, spec.statistic, spec.period) == ("AWS/DynamoDB", "Sum", 60)
    assert (spec.evaluation_periods, spec.datapoints_to_alarm) == (1, 1)
    assert (spec.comparison_operator, spec.threshold) == ("GreaterThanThreshold", 0.0)
    assert spec.treat_missing_data == "notBreaching"


# -- pre-throttle: consumed above provisioned ------------------------------------------------
PRE_THROTTLE = {AlarmKind.READ_ABOVE_PROVISIONED, AlarmKind.WRITE_ABOVE_PROVISIONED}


def pre_throttle_alarms(alarms: list[AlarmDefinition]) -> dict[str, AlarmDefinition]:
    return {a.name: a for a in alarms if a.kind in PRE_THROTTLE}


@pytest.mark.parametrize(
    ("index", "dimensions"),
    [
        pytest.param(None, (("TableName", "orders"),), id="table"),
        pytest.param(
            "by-customer",
            (("GlobalSecondaryIndexName", "by-customer"), ("TableName", "orders")),
            id="gsi",
        ),
    ],
)
def test_pre_throttle_alarm_is_consumed_per_second_over_the_filled_provisioned(index, dimensions):
    table = provisioned_table("orders", indexes={"by-customer": (50, 25)})
    where = "orders-by-customer" if index else "orders"
    alarm = pre_throttle_alarms(desired_alarms(table, OPS, POLICY))[
        f"autoresponder-{where}-write-above-provisioned"
    ]
    spec = alarm.spec
    expression, consumed, provisioned = spec.metrics
    assert (expression.id, expression.return_data) == ("utilization", True)
    assert expression.expression == (
        "100 * consumed / PERIOD(consumed) / FILL(provisioned, REPEAT)"
    )
    assert expression.metric_name is None
    assert (consumed.id, consumed.return_data) == ("consumed", False)
    assert (consumed.namespace, consumed.metric_name) == (
        "AWS/DynamoDB",
        "ConsumedWriteCapacityUnits",
    )
    assert (consumed.stat, consumed.period, consumed.dimensions) == ("Sum", 60, dimensions)
    assert (provisioned.id, provisioned.return_data) == ("provisioned", False)
    assert provisioned.metric_name == "ProvisionedWriteCapacityUnits"
    assert (provisioned.stat, provisioned.period, provisioned.dimensions) == (
        "Maximum",
        60,
        dimensions,
    )
    # one metric-math alarm: none of the single-metric fields
    assert (spec.namespace, spec.metric_name, spec.dimensions, spec.statistic, spec.period) == (
        "",
        "",
        (),
        "",
        0,
    )
    # above 100 % of provisioned for 1 of 1 one-minute datapoints
    assert (spec.comparison_operator, spec.threshold) == ("GreaterThanThreshold", 100.0)
    assert (spec.evaluation_periods, spec.datapoints_to_alarm) == (1, 1)
    assert spec.treat_missing_data == "notBreaching"
    assert spec.alarm_metrics == 2  # billed per metric it reads
    assert alarm.tags == {
        CREATED_BY_TAG: "onboard_tables",
        "autoresponder:table": "orders",
        "autoresponder:kind": "write-above-provisioned",
        **({"autoresponder:index": index} if index else {}),
    }
    assert "burst capacity" in spec.description


def test_pre_throttle_read_alarm_reads_the_read_metrics():
    alarm = pre_throttle_alarms(desired_alarms(provisioned_table("orders"), (), POLICY))[
        "autoresponder-orders-read-above-provisioned"
    ]
    assert [q.metric_name for q in alarm.spec.metrics] == [
        None,
        "ConsumedReadCapacityUnits",
        "ProvisionedReadCapacityUnits",
    ]
    assert alarm.kind is AlarmKind.READ_ABOVE_PROVISIONED


@pytest.mark.parametrize("gsis", [0, 1, 3])
def test_one_pre_throttle_alarm_per_resource_and_dimension(gsis):
    indexes = {f"gsi{i}": (10, 10) for i in range(gsis)}
    alarms = pre_throttle_alarms(
        desired_alarms(provisioned_table("orders", indexes=indexes), OPS, POLICY)
    )
    assert len(alarms) == 2 * (1 + gsis)
    assert {(a.index_name, a.kind) for a in alarms.values()} == {
        (index, kind) for index in (None, *indexes) for kind in PRE_THROTTLE
    }


def test_on_demand_tables_get_no_pre_throttle_alarm():
    assert pre_throttle_alarms(desired_alarms(on_demand_table("clickstream"), OPS, POLICY)) == {}


def test_watch_only_tables_get_no_pre_throttle_alarm():
    table = provisioned_table("orders", indexes={"by-customer": (50, 25)})
    watched = desired_alarms(table, OPS, POLICY, managed=False)
    assert pre_throttle_alarms(watched) == {}
    # the throttle and latency alarms are the same as a managed table's
    managed = desired_alarms(table, OPS, POLICY)
    assert watched == [a for a in managed if a.kind not in PRE_THROTTLE]


def test_the_diff_counts_the_metrics_the_alarms_read():
    table = provisioned_table("orders", indexes={"by-customer": (50, 25)})
    wanted = desired_alarms(table, OPS, POLICY)
    diff = diff_table("orders", wanted, {})
    # per resource: 4 throttle alarms (1 metric each) + 2 pre-throttle (2 each); 2 latency
    assert (diff.alarm_count, diff.alarm_metrics) == (14, 2 * (4 + 2 * 2) + 2)
    again = diff_table("orders", wanted, account_of(wanted))
    assert (again.alarm_count, again.alarm_metrics) == (14, 18)
    taken = next(a for a in wanted if a.kind is AlarmKind.READ_ABOVE_PROVISIONED)
    hand_made = {taken.name: ObservedAlarm(name=taken.name, tags={"team": "db"})}
    conflicted = diff_table("orders", wanted, hand_made)
    assert (conflicted.alarm_count, conflicted.alarm_metrics) == (13, 16)  # not ours


@pytest.mark.parametrize(
    ("operation", "target"),
    [
        pytest.param("GetItem", 10.0, id="getitem-10ms"),
        pytest.param("Query", 20.0, id="query-20ms"),
        pytest.param("BatchGetItem", 100.0, id="batch-get-100ms"),
        pytest.param("BatchWriteItem", 100.0, id="batch-write-100ms"),
        pytest.param("PutItem", 25.0, id="others-default"),
    ],
)
def test_latency_alarm_average_above_target_for_five_minutes(operation, target):
    (alarm,) = [
        a
        for a in desired_alarms(provisioned_table("orders"), (operation,), POLICY)
        if a.kind is AlarmKind.LATENCY
    ]
    assert alarm.name == f"autoresponder-orders-latency-{operation}"
    assert alarm.operation == operation
    spec = alarm.spec
    assert spec.metric_name == "SuccessfulRequestLatency"
    assert spec.dimension_map == {"TableName": "orders", "Operation": operation}
    assert (spec.statistic, spec.period, spec.threshold) == ("Average", 60, target)
    assert (spec.evaluation_periods, spec.datapoints_to_alarm) == (5, 5)


def test_thresholds_come_from_the_policy():
    policy = AlarmPolicy(
        prefix="ops-",
        throttle_threshold=5,
        throttle_periods=2,
        latency_periods=3,
        latency_targets_ms={"GetItem": 4.0},
    )
    alarms = by_name(desired_alarms(provisioned_table("orders"), ("GetItem",), policy))
    throttle = alarms["ops-orders-read-key-range-throttle"].spec
    assert (throttle.threshold, throttle.evaluation_periods, throttle.datapoints_to_alarm) == (
        5,
        2,
        2,
    )
    latency = alarms["ops-orders-latency-GetItem"].spec
    assert (latency.threshold, latency.evaluation_periods) == (4.0, 3)


@pytest.mark.parametrize(
    ("listed", "expected"),
    [
        pytest.param({"Query", "GetItem"}, ("GetItem", "Query"), id="listed-sorted"),
        pytest.param(set(), ("GetItem", "Query", "PutItem", "UpdateItem"), id="none-defaults"),
        pytest.param({"GetRecords"}, ("GetItem", "Query", "PutItem", "UpdateItem"), id="streams"),
        pytest.param({"Scan", "GetRecords"}, ("Scan",), id="unknown-dropped"),
    ],
)
def test_served_operations(listed, expected):
    assert served_operations(listed, POLICY) == expected


@pytest.mark.parametrize(
    ("prefix", "table", "index", "suffix", "expected"),
    [
        pytest.param(
            "autoresponder-",
            "orders",
            None,
            "read-key-range-throttle",
            "autoresponder-orders-read-key-range-throttle",
            id="table",
        ),
        pytest.param(
            "autoresponder-",
            "orders",
            "gsi1",
            "write-provisioned-throttle",
            "autoresponder-orders-gsi1-write-provisioned-throttle",
            id="index",
        ),
        pytest.param("ops/", "t", None, "latency-Query", "ops/t-latency-Query", id="prefix"),
    ],
)
def test_alarm_name_format(prefix, table, index, suffix, expected):
    assert alarm_name(prefix, table, index, suffix) == expected


def test_long_names_are_cut_to_255_with_a_distinguishing_hash():
    table = "t" * 250
    a = alarm_name("autoresponder-", table, "gsi-a", "read-key-range-throttle")
    b = alarm_name("autoresponder-", table, "gsi-b", "read-key-range-throttle")
    assert len(a) == len(b) == MAX_ALARM_NAME
    assert a != b
    assert a.startswith("autoresponder-ttt")
    assert "-read-key-range-throttle-" in a


@given(
    table=st.from_regex(r"[a-zA-Z0-9_.\-]{3,255}", fullmatch=True),
    index=st.none() | st.from_regex(r"[a-zA-Z0-9_.\-]{3,255}", fullmatch=True),
)
def test_names_fit_cloudwatch_and_start_with_the_prefix(table, index):
    name = alarm_name("autoresponder-", table, index, "write-max-on-demand-throttle")
    assert len(name) <= MAX_ALARM_NAME
    assert name.startswith("autoresponder-")


# --------------------------------------------------------------------------------------------
# coverage
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tags", "watch", "expected"),
    [
        pytest.param({"autoresponder:managed": "true"}, set(), Coverage.MANAGED, id="tagged"),
        # as IAM reads it: `true` exactly (a table IAM would not let the runbooks change)
        pytest.param({"autoresponder:managed": "TRUE "}, set(), None, id="not-exactly-true"),
        pytest.param({"autoresponder:managed": "TRUE "}, {"orders"}, Coverage.WATCH, id="watch"),
        pytest.param({"autoresponder:managed": "true"}, {"orders"}, Coverage.MANAGED, id="both"),
        pytest.param({}, {"orders"}, Coverage.WATCH, id="watch-list"),
        pytest.param({"autoresponder:managed": "false"}, set(), None, id="false"),
        pytest.param({}, {"other"}, None, id="not-covered"),
    ],
)
def test_coverage(tags, watch, expected):
    assert coverage_of("orders", tags, watch) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("", frozenset(), id="empty"),
        pytest.param("a,b", frozenset({"a", "b"}), id="two"),
        pytest.param(" a , ,b ,", frozenset({"a", "b"}), id="blanks"),
    ],
)
def test_watch_list(raw, expected):
    assert parse_watch_list(raw) == expected


# --------------------------------------------------------------------------------------------
# the diff
# --------------------------------------------------------------------------------------------
def test_new_table_creates_everything_and_is_an_onboard():
    wanted = desired_alarms(provisioned_table("orders"), OPS, POLICY)
    diff = diff_table("orders", wanted, {})
    assert [a.name for a in diff.create] == [a.name for a in wanted]
    assert diff.action is OnboardAction.ONBOARD


def test_nothing_to_do_when_every_alarm_matches():
    wanted = desired_alarms(provisioned_table("orders"), OPS, POLICY)
    diff = diff_table("orders", wanted, account_of(wanted))
    assert diff.empty
    assert diff.action is None
    assert len(diff.unchanged) == len(wanted)


def test_a_gained_gsi_adds_only_the_index_alarms():
    before = desired_alarms(provisioned_table("orders"), OPS, POLICY)
    table = provisioned_table("orders", indexes={"by-day": (10, 10)})
    diff = diff_table("orders", desired_alarms(table, OPS, POLICY), account_of(before))
    assert {a.index_name for a in diff.create} == {"by-day"}
    assert len(diff.create) == 6  # provisioned and key-range throttle, pre-throttle: r/w each
    assert not diff.update
    assert not diff.delete
    assert diff.action is OnboardAction.UPDATE_ALARMS


def test_a_dropped_gsi_loses_its_alarms():
    table = provisioned_table("orders", indexes={"by-day": (10, 10)})
    before = desired_alarms(table, OPS, POLICY)
    after = desired_alarms(provisioned_table("orders"), OPS, POLICY)
    diff = diff_table("orders", after, account_of(before))
    assert set(diff.delete) == {a.name for a in before if a.index_name == "by-day"}
    assert diff.action is OnboardAction.UPDATE_ALARMS


def test_an_edited_alarm_is_put_back():
    wanted = desired_alarms(provisioned_table("orders"), OPS, POLICY)
    existing = account_of(wanted)
    edited = wanted[0]
    existing[edited.name] = observed(edited, threshold=1000.0)
    diff = diff_table("orders", wanted, existing)
    assert [a.name for a in diff.update] == [edited.name]
    assert diff.action is OnboardAction.UPDATE_ALARMS


def test_billing_mode_switch_replaces_capacity_alarms():
    before = desired_alarms(provisioned_table("orders"), (), POLICY)
    on_demand = on_demand_table("orders")
    diff = diff_table("orders", desired_alarms(on_demand, (), POLICY), account_of(before))
    assert {a.kind for a in diff.create} == {
        AlarmKind.READ_MAX_ON_DEMAND,
        AlarmKind.WRITE_MAX_ON_DEMAND,
    }
    assert set(diff.delete) == {
        "autoresponder-orders-read-provisioned-throttle",
        "autoresponder-orders-write-provisioned-throttle",
        "autoresponder-orders-read-above-provisioned",
        "autoresponder-orders-write-above-provisioned",
    }
    assert diff.deleted_alarm_metrics == 6  # 2 single-metric + 2 pre-throttle × 2 metrics


def test_alarms_made_by_people_are_never_touched():
    wanted = desired_alarms(provisioned_table("orders"), OPS, POLICY)
    taken = wanted[0]
    existing = {
        # a hand-made alarm with a name the responder wants, defined differently
        taken.name: ObservedAlarm(name=taken.name, tags={"team": "db"}, spec=None),
        # a hand-made alarm on the same table the responder does not want
        "autoresponder-orders-my-own": ObservedAlarm(
            name="autoresponder-orders-my-own", tags={"autoresponder:table": "orders"}
        ),
    }
    diff = diff_table("orders", wanted, existing)
    assert diff.conflicts == (taken.name,)
    assert taken.name not in {a.name for a in (*diff.create, *diff.update)}
    assert diff.delete == ()
    assert offboard_diff("orders", existing).empty


def test_name_collision_with_another_tables_alarm_is_a_conflict():
    # table `orders` with index `gsi1` and table `orders-gsi1` share alarm names
    index_alarms = desired_alarms(provisioned_table("orders", indexes={"gsi1": (5, 5)}), (), POLICY)
    other = desired_alarms(provisioned_table("orders-gsi1"), (), POLICY)
    existing = account_of(other)
    diff = diff_table("orders", index_alarms, existing)
    shared = {a.name for a in other} & {a.name for a in index_alarms}
    assert shared
    assert set(diff.conflicts) == shared
    assert not (shared & {a.name for a in diff.update})
    assert diff.delete == ()


def test_offboard_deletes_only_the_responders_alarms_of_that_table():
    orders = desired_alarms(provisioned_table("orders"), OPS, POLICY)
    profiles = desired_alarms(provisioned_table("profiles"), OPS, POLICY)
    existing = {
        **account_of(orders),
        **account_of(profiles),
        "autoresponder-orders-by-hand": ObservedAlarm(name="autoresponder-orders-by-hand"),
    }
    diff = offboard_diff("orders", existing)
    assert set(diff.delete) == {a.name for a in orders}
    assert diff.action is OnboardAction.OFFBOARD
    assert tables_with_alarms(existing) == {"orders", "profiles"}


def test_fingerprint_is_stable_and_tells_changes_apart():
    wanted = desired_alarms(provisioned_table("orders"), OPS, POLICY)
    one = diff_table("orders", wanted, {})
    again = diff_table("orders", list(reversed(wanted)), {})
    other = diff_table("orders", wanted[1:], {})
    assert one.fingerprint() == again.fingerprint()
    assert one.fingerprint() != other.fingerprint()


# --------------------------------------------------------------------------------------------
# Contributor Insights
# --------------------------------------------------------------------------------------------
def _status(status: str) -> InsightsStatus:
    return InsightsStatus(table_name="orders", status=status)


@pytest.mark.parametrize(
    ("setting", "coverage", "dry_run", "statuses", "expected"),
    [
        pytest.param(False, Coverage.MANAGED, False, {}, (), id="setting-off"),
        pytest.param(True, Coverage.MANAGED, False, {}, (None, "gsi"), id="off-everywhere"),
        pytest.param(True, Coverage.WATCH, False, {}, (), id="watch-only-never-changed"),
        pytest.param(True, Coverage.MANAGED, True, {}, (), id="dry-run-tag"),
        pytest.param(
            True,
            Coverage.MANAGED,
            False,
            {None: _status("ENABLED"), "gsi": _status("DISABLED")},
            ("gsi",),
            id="table-already-on",
        ),
        pytest.param(
            True,
            Coverage.MANAGED,
            False,
            {None: _status("DISABLING"), "gsi": _status("FAILED")},
            ("gsi",),
            id="disabling-left-alone-failed-retried",
        ),
    ],
)
def test_contributor_insights(setting, coverage, dry_run, statuses, expected):
    table = provisioned_table("orders", indexes={"gsi": (5, 5)})
    got = insights_to_enable(table, coverage, statuses, setting_on=setting, table_dry_run=dry_run)
    assert got == expected


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------
def apply(diff_existing: dict[str, ObservedAlarm], table: str, wanted, diff) -> None:
    """What the service does with a diff, on an in-memory account."""
    for alarm in (*diff.create, *diff.update):
        tags = diff_existing[alarm.name].tags if alarm.name in diff_existing else alarm.tags
        diff_existing[alarm.name] = ObservedAlarm(name=alarm.name, tags=tags, spec=alarm.spec)
    for name in diff.delete:
        del diff_existing[name]


indexes = st.dictionaries(st.sampled_from(["gsi-a", "gsi-b", "gsi-c"]), st.just((5, 5)), max_size=3)
operations = st.sets(st.sampled_from(["GetItem", "Query", "PutItem", "Scan"]))


@given(before_indexes=indexes, after_indexes=indexes, before_ops=operations, after_ops=operations)
def test_reconcile_converges_in_one_step_and_never_touches_other_alarms(
    before_indexes, after_indexes, before_ops, after_ops
):
    before = desired_alarms(provisioned_table("orders", indexes=before_indexes), before_ops, POLICY)
    existing = account_of(before)
    human = ObservedAlarm(name="autoresponder-orders-by-hand", tags={"team": "db"})
    other = desired_alarms(provisioned_table("profiles"), (), POLICY)
    existing.update({human.name: human, **account_of(other)})
    untouchable = {n: a for n, a in existing.items() if a.table_name != "orders"}

    wanted = desired_alarms(provisioned_table("orders", indexes=after_indexes), after_ops, POLICY)
    diff = diff_table("orders", wanted, existing)
    apply(existing, "orders", wanted, diff)

    again = diff_table("orders", wanted, existing)
    assert again.empty  # idempotent: a second run changes nothing
    assert {n: existing[n] for n in untouchable} == untouchable
    assert {n for n, a in existing.items() if a.table_name == "orders"} == {a.name for a in wanted}


# --------------------------------------------------------------------------------------------
# the autoresponder:managed tag on scalable targets
# --------------------------------------------------------------------------------------------
def target(rid: str, unit: str = "Read", **tags: str) -> ObservedScalableTarget:
    kind = "index" if "/index/" in rid else "table"
    return ObservedScalableTarget(
        resource_id=rid,
        scalable_dimension=f"dynamodb:{kind}:{unit}CapacityUnits",
        arn=f"arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/{rid}{unit}",
        tags={k.replace("_", ":"): v for k, v in tags.items()},
    )


UNTAGGED = target("table/t")
TAGGED = target("table/t", "Write", autoresponder_managed="true")
OTHER_VALUE = target("table/t/index/g", autoresponder_managed="false")
OTHER_TAGS = target("table/t/index/g", "Write", team="db")


@pytest.mark.parametrize(
    ("targets", "managed", "tag", "untag"),
    [
        ([], True, [], []),
        ([UNTAGGED, TAGGED], True, [UNTAGGED], []),
        ([OTHER_VALUE, OTHER_TAGS], True, [OTHER_VALUE, OTHER_TAGS], []),
        ([TAGGED], True, [], []),
        ([UNTAGGED, TAGGED], False, [], [TAGGED]),
        ([OTHER_VALUE, OTHER_TAGS], False, [], [OTHER_VALUE]),
        ([UNTAGGED, OTHER_TAGS], False, [], []),
    ],
    ids=[
        "no-targets",
        "managed-tags-the-untagged",
        "managed-fixes-another-value-and-adds-to-other-tags",
        "managed-already-tagged",
        "unmanaged-untags-the-tagged",
        "unmanaged-removes-any-value-of-the-key",
        "unmanaged-never-tagged",
    ],
)
def test_target_tag_changes(targets, managed, tag, untag):
    assert target_tag_changes(targets, managed=managed) == (tuple(tag), tuple(untag))


def test_a_tag_change_alone_is_an_update_of_a_managed_table():
    wanted = desired_alarms(provisioned_table("t"), OPS, POLICY)
    diff = diff_table("t", wanted, account_of(wanted), targets=[UNTAGGED, TAGGED], managed=True)
    assert not diff.empty
    assert diff.action is OnboardAction.UPDATE_ALARMS
    assert diff.tag_targets == (UNTAGGED,) and diff.untag_targets == ()
    settled = diff_table("t", wanted, account_of(wanted), targets=[TAGGED], managed=True)
    assert settled.empty
    assert settled.fingerprint() != diff.fingerprint()


def test_watch_coverage_untags_and_offboard_untags():
    wanted = desired_alarms(provisioned_table("t"), OPS, POLICY)
    watch = diff_table("t", wanted, account_of(wanted), targets=[TAGGED], managed=False)
    assert (watch.untag_targets, watch.action) == ((TAGGED,), OnboardAction.UPDATE_ALARMS)
    gone = offboard_diff("t", account_of(wanted), [TAGGED, UNTAGGED])
    assert (gone.untag_targets, gone.tag_targets) == ((TAGGED,), ())
    assert gone.action is OnboardAction.OFFBOARD


@given(
    st.lists(
        st.builds(
            target,
            st.sampled_from(["table/t", "table/t/index/g"]),
            st.sampled_from(["Read", "Write"]),
            autoresponder_managed=st.sampled_from(["true", "false", "TRUE"]),
        ),
        unique_by=lambda t: t.label,
    ),
    st.booleans(),
)
def test_target_tagging_converges_in_one_step(targets, managed):
    tag, untag = target_tag_changes(targets, managed=managed)
    after = [
        t.model_copy(update={"tags": {"autoresponder:managed": "true"}})
        if t in tag
        else t.model_copy(update={"tags": {}})
        if t in untag
        else t
        for t in targets
    ]
    assert target_tag_changes(after, managed=managed) == ((), ())
    assert not (set(t.label for t in tag) & set(t.label for t in untag))
