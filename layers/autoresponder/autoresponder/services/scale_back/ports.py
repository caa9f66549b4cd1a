"""What one table's run uses: the service's ports and helpers, passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass

from autoresponder.services.capacity_change import CapacityChanger
from autoresponder.services.ports import (
    AutoScalingPort,
    Clock,
    ScaleHistoryStore,
    TableLocks,
    TableReader,
)
from autoresponder.services.rechecks import LookAgain
from autoresponder.services.recording import DecisionRecorder
from autoresponder.services.scale_back.config import ScaleBackConfig
from autoresponder.services.throttle_pass import ThrottlePass


@dataclass(frozen=True)
class RunPorts:
    """Built once by `ScaleBack`; every table of every run goes through the same ones."""

    tables: TableReader
    autoscaling: AutoScalingPort
    history: ScaleHistoryStore
    locks: TableLocks
    recorder: DecisionRecorder
    clock: Clock
    changer: CapacityChanger
    throttle_pass: ThrottlePass
    looks: LookAgain
    config: ScaleBackConfig
