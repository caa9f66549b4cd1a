"""scale_back: on a schedule, the safety net of the capacity lifecycle for every table.

One run, for every table with a capacity record or a throttling alarm still in ALARM
(`service.py`), each table under its lock (`table_run.py`):

1. the throttle runbook's own pass (`follow_up.py`, `services/throttle_pass.py`): describe the
   table, settle pending intents, ONE GetMetricData over the table and its GSIs (over the
   stabilization window), diagnose, raise where the diagnosis shows a shortfall — the same
   decision path as an alarm's, never a copy;
2. the throttling episodes that look shows over get their time to mitigation (`mitigation.py`);
3. then each raise the records hold gets a scale-back decision (`scale_down.py`) on the same
   diagnosis; at most one capacity change per table and run (the table goes UPDATING and
   refuses a second one; a table and a GSI decrease never share a call); the others wait;
4. the table's next look, where a change has not landed or an episode is not over
   (`next_look.py`).

Every decision is recorded under a key made of the run's scheduled time and the
table/index/dimension (`run_records.py`), so a retried or duplicated run resumes what it already
decided; a change asked for but not yet recorded is settled by the table itself (its intent).
"""

from autoresponder.services.scale_back.config import Run, ScaleBackConfig
from autoresponder.services.scale_back.result import RunResult
from autoresponder.services.scale_back.service import ScaleBack

__all__ = ["Run", "RunResult", "ScaleBack", "ScaleBackConfig"]
