"""The scale-back step: each raise the records hold gets a decision (`decide_scale_back`) on the
follow-up's diagnosis; at most one capacity change per table and run (the table goes UPDATING
and refuses a second one; a table and a GSI decrease never share a call); the others wait."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from autoresponder.domain.cost import hourly_delta
from autoresponder.domain.diagnosis import Diagnosis
from autoresponder.domain.scale_back.decision import decide_scale_back
from autoresponder.domain.scale_back.one_change import pick_change, wait_for_other_change
from autoresponder.domain.scale_back.plan import BACK_ACTIONS, BackPlan, ScaleBackCase
from autoresponder.domain.scale_back.policy import stabilization_for
from autoresponder.domain.scale_back.precheck import precheck
from autoresponder.domain.scaling.history import IntentStatus, ScaleHistory
from autoresponder.errors import PermanentError, RetryableError
from autoresponder.models.decision import Action, Decision, Severity
from autoresponder.models.scale_back import WindowActivity
from autoresponder.models.table import Dimension, TableDescription, TablePolicy
from autoresponder.services.capacity_change import CapacityChange
from autoresponder.services.scale_back.ports import RunPorts
from autoresponder.services.scale_back.raised import Raised, in_unit_order
from autoresponder.services.scale_back.run_records import RunRecords

_ERROR_STEPS = (
    "Check the table's decreases today (DescribeTable NumberOfDecreasesToday)",
    "Read the decision record and the function's log for the AWS error",
)


class ScaleDown:
    """The scale-back decisions of one table in one run (a helper object: keeps whether the
    table changed, and until when plans hold, out of the signatures)."""

    def __init__(
        self, ports: RunPorts, records: RunRecords, now: datetime, *, changed: bool
    ) -> None:
        self._ports = ports
        self._records = records
        self._now = now
        self.changed = changed
        """Whether the table got (or, on a resumed run, already got) a change in this run."""
        self.holds_until: list[datetime] = []

    def run(
        self,
        table: TableDescription,
        policy: TablePolicy,
        raised: Raised,
        in_alarm: tuple[str, ...],
        diagnosis: Diagnosis | None,
    ) -> list[Decision]:
        decisions: list[Decision] = []
        planned: list[tuple[ScaleBackCase, BackPlan]] = []
        for (index, dimension), history in in_unit_order(raised):
            resumed = self._records.resume(index, dimension, "back")
            if resumed is not None:
                decisions.append(resumed)
                self.changed |= resumed.action in BACK_ACTIONS
                if resumed.inputs.get("forget") and not resumed.dry_run:
                    self._ports.changer.forget(self._records.table_name, index, dimension)
                continue
            if history.pending:
                continue  # an intent the pass could not settle: the next run does
            case = self._case(
                table,
                policy,
                index=index,
                dimension=dimension,
                history=history,
                in_alarm=in_alarm,
            )
            planned.append(self._plan(case, diagnosis))
        chosen = self._chosen([plan for _, plan in planned])
        dry_run = self._ports.config.dry_run or policy.dry_run
        other = planned[chosen][1] if chosen is not None else None
        for i, (case, plan) in enumerate(planned):
            waits = plan.mutates and i != chosen
            decision_plan = wait_for_other_change(plan, other) if waits else plan
            decisions.append(self._act(case, decision_plan, dry_run=dry_run))
        return decisions

    def _chosen(self, plans: list[BackPlan]) -> int | None:
        """The one plan that may change the table: a replayed one, else the best (none when
        the table already changed in this run)."""
        replayed = [i for i, plan in enumerate(plans) if plan.replayed]
        if replayed:
            return replayed[0]
        if self.changed:
            return None
        return pick_change(plans, self._ports.config.prices)

    def _case(
        self,
        table: TableDescription,
        policy: TablePolicy,
        *,
        index: str | None,
        dimension: Dimension,
        history: ScaleHistory,
        in_alarm: tuple[str, ...],
    ) -> ScaleBackCase:
        table_name = self._records.table_name
        scalable = (
            None
            if table.is_on_demand or table.unit(index) is None
            else self._ports.autoscaling.scalable_target(table_name, index, dimension)
        )
        return ScaleBackCase(
            table=table,
            index_name=index,
            dimension=dimension,
            history=history,
            table_policy=policy,
            now=self._now,
            scalable_target=scalable,
            alarms_in_alarm=in_alarm,
            run_key=self._records.event.run_key,
        )

    def _plan(
        self, case: ScaleBackCase, diagnosis: Diagnosis | None
    ) -> tuple[ScaleBackCase, BackPlan]:
        """The plan, and the case it was made on (with the window's activity)."""
        policy = self._ports.config.policy
        plan = precheck(case, policy)
        if plan is None:
            window = stabilization_for(case.history, policy)
            observed = diagnosis.over_last(window) if diagnosis is not None else None
            case = replace(case, activity=_activity(observed, case.index_name, case.dimension))
            plan = decide_scale_back(case, policy)
        if plan.until is not None:
            self.holds_until.append(plan.until)
        return case, plan

    def _act(self, case: ScaleBackCase, plan: BackPlan, *, dry_run: bool) -> Decision:
        if plan.mutates:
            self.changed = True
        if plan.mutates and not plan.replayed and not dry_run:
            try:
                self._ports.changer.apply(self._change(case, plan))
            except RetryableError as exc:
                return self._back_error(case, plan, Action.DEFER, exc)
            except PermanentError as exc:
                return self._back_error(case, plan, Action.FAIL, exc)
        forget = (plan.forget or (plan.mutates and plan.restores_original)) and not dry_run
        decision = self._finish(case, plan, dry_run=dry_run, forget=forget)
        if forget:
            self._ports.changer.forget(self._records.table_name, case.index_name, case.dimension)
        return decision

    def _change(self, case: ScaleBackCase, plan: BackPlan) -> CapacityChange:
        assert plan.after is not None and plan.before is not None
        intent = replace(
            case.history,
            event_key=self._records.event.run_key,
            action=plan.action,
            before=plan.before,
            after=plan.after,
            status=IntentStatus.PENDING,
            applied_at=None,
            decreased_at=self._now if plan.spends_decrease else case.history.decreased_at,
            rule=plan.rule,
        )  # scaled_at stays the last raise: a decrease never starts a raise's cooldown
        return CapacityChange(
            table_name=self._records.table_name,
            index_name=case.index_name,
            after=plan.after,
            intents={case.dimension: intent},
            previous={case.dimension: case.history},
            scalable_target=case.scalable_target,
        )

    def _back_error(
        self, case: ScaleBackCase, plan: BackPlan, action: Action, error: Exception
    ) -> Decision:
        permanent = action is Action.FAIL
        failed = BackPlan(
            action,
            f"error.{type(error).__name__}" if permanent else "retryable_error",
            f"could not {plan.action.replace('_', ' ')} ({plan.reason}): {error}"
            if permanent
            else f"{error}: the next run tries again",
            case.dimension,
            before=plan.before,
            after=plan.after,
            severity=Severity.CRITICAL if permanent else Severity.INFO,
            next_steps=_ERROR_STEPS if permanent else (),
        )
        return self._finish(case, failed, dry_run=False, forget=False, error=str(error))

    def _finish(
        self,
        case: ScaleBackCase,
        plan: BackPlan,
        *,
        dry_run: bool,
        forget: bool,
        error: str | None = None,
    ) -> Decision:
        inputs = self._inputs(case, plan, forget=forget)
        if error is not None:
            inputs["error"] = error
        saving = hourly_delta(plan.removed_units, plan.dimension, self._ports.config.prices)
        decision = self._records.build(
            "back",
            plan,
            index_name=case.index_name,
            dimension=case.dimension,
            before=plan.before,
            after=plan.after,
            cost_delta_per_hour=-saving if plan.removed_units and saving else None,
            dry_run=dry_run,
            inputs=inputs,
            hold_reason=plan.hold_reason.value if plan.hold_reason else None,
            announce=plan.announce,
        )
        return self._records.record(decision)

    def _inputs(self, case: ScaleBackCase, plan: BackPlan, *, forget: bool) -> dict[str, Any]:
        """What the decision was based on: the raise, the window's activity, the table."""
        unit = case.table.unit(case.index_name)
        activity = case.activity
        budget = plan.budget
        stabilization = self._ports.config.policy.stabilization
        return {
            "original": case.history.original.model_dump(),
            "raised_to": case.history.after.model_dump(),
            "last_raise": case.history.scaled_at.isoformat(),
            "stabilization_minutes": int(stabilization.total_seconds() // 60),
            "consumed_peak_per_second": activity.consumed_peak if activity else None,
            "throttle_events": activity.throttle_events if activity else None,
            "alarms_in_alarm": list(case.alarms_in_alarm),
            "table_status": case.table.status,
            "decreases_today": unit.decreases_today if unit else None,
            "last_decrease_at": unit.last_decrease_at.isoformat()
            if unit and unit.last_decrease_at
            else None,
            "decreases_left_after": budget.left_after_one if budget else None,
            "restores_original": plan.restores_original,
            "forget": forget,
        }


def _activity(
    diagnosis: Diagnosis | None, index_name: str | None, dimension: Dimension
) -> WindowActivity | None:
    """What the diagnosis saw of one unit over the window (None: CloudWatch unreadable): the
    peak demand (consumed plus rejected) and the throttled requests."""
    if diagnosis is None:
        return None
    unit = diagnosis.unit(index_name, dimension)
    if unit is None:
        return WindowActivity()
    return WindowActivity(
        consumed_peak=unit.demand_peak,
        throttle_events=unit.throttled_events,
        peak_at=unit.demand_peak_at,
        last_throttled_at=unit.last_throttled_at,
    )
