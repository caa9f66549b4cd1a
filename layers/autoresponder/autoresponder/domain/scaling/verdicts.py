"""What the plan concludes for one resource and dimension, and the verdicts both modes share."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from autoresponder.domain.diagnosis import UnitDiagnosis
from autoresponder.domain.scaling.history import UnitKey
from autoresponder.models.table import Dimension


class VerdictKind(StrEnum):
    RAISE = "raise"
    HAND_OFF = "hand_off"
    ADVISE = "advise"
    AT_CEILING = "at_ceiling"
    COOLDOWN = "cooldown"
    BACK_PRESSURE = "back_pressure"
    WAITS = "waits"
    """A raise that waits for the next look: another resource of the table changes first."""
    UPDATING = "updating"


WORTH_SAYING = frozenset(
    {
        VerdictKind.HAND_OFF,
        VerdictKind.ADVISE,
        VerdictKind.AT_CEILING,
        VerdictKind.BACK_PRESSURE,
        VerdictKind.WAITS,
    }
)
"""Verdicts a reason mentions beside its own (cooldowns are in the findings and the record)."""


@dataclass(frozen=True)
class Verdict:
    """What the plan concluded for one resource and dimension."""

    index_name: str | None
    dimension: Dimension
    kind: VerdictKind
    rule: str
    text: str
    current: int | None = None
    wanted: int | None = None
    shortfall: float = 0.0
    """Estimated demand ÷ current capacity (0 when not short)."""
    measured: bool = True

    @classmethod
    def about(
        cls,
        unit: UnitDiagnosis,
        kind: VerdictKind,
        rule: str,
        text: str,
        current: int | None = None,
    ) -> Verdict:
        """A verdict that changes nothing, about `unit`'s resource and dimension."""
        return cls(unit.index_name, unit.dimension, kind, rule, text, current=current)

    @property
    def key(self) -> UnitKey:
        return self.index_name, self.dimension


def sized(
    unit: UnitDiagnosis,
    current: int,
    wanted: int,
    *,
    rule: str,
    text: str,
    at_ceiling: str,
    short: bool,
) -> Verdict:
    """A raise of `current` to `wanted` (`rule`, `text`), sized on the measured demand when
    `short`; nothing above `current`: at the ceiling (`at_ceiling` says why)."""
    if wanted <= current:
        return Verdict(
            unit.index_name,
            unit.dimension,
            VerdictKind.AT_CEILING,
            "at_ceiling",
            at_ceiling,
            current=current,
            wanted=wanted,
        )
    return Verdict(
        unit.index_name,
        unit.dimension,
        VerdictKind.RAISE,
        rule,
        text,
        current=current,
        wanted=wanted,
        shortfall=(unit.demand_peak or 0.0) / current if short and current else 1.0,
        measured=short,
    )


def hand_off(unit: UnitDiagnosis, current: int | None, *, note: str = "") -> Verdict:
    """A hot partition (key range): the hot-key report takes it."""
    return Verdict.about(
        unit,
        VerdictKind.HAND_OFF,
        "key_range.hand_off",
        f"{unit.where()} throttle on a hot partition (key range): {note}hot keys are flagged by "
        "the flag_hot_keys runbook",
        current,
    )


def advise(unit: UnitDiagnosis, rule: str, words: str, current: int | None = None) -> Verdict:
    """Advice, nothing to raise: `unit`'s resource and dimension, then `words`."""
    return Verdict.about(unit, VerdictKind.ADVISE, rule, f"{unit.where()}{words}", current)


def advise_quota(unit: UnitDiagnosis) -> Verdict:
    return advise(
        unit,
        "account_limit.advise",
        " throttle on the account's throughput quota, not on the table",
    )
