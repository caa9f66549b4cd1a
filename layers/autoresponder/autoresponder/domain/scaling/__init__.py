"""Where throttling gets decided: the pure throttle runbook (alarms, re-checks, follow-ups).

The plan acts on the diagnosis (`domain/diagnosis.py`), for every resource (the table, each
GSI) and dimension it shows throttled or short of capacity:

- provisioned capacity → raise to the estimated demand plus headroom (Auto Scaling's
  MinCapacity where a scalable target manages the resource);
- a hot partition (key range) → no capacity: hand off to the hot-key report;
- the table's own on-demand maximum → raise it;
- the account's quota → advise a quota increase;
- a base table whose write throttling comes from a GSI → the index, not the table.

CloudWatch answering "nothing throttled" is an answer (`skip`, with why the alarm fired anyway);
CloudWatch unreadable is not: the alarm's own metric and the minimum step decide.

Guardrails on every path: never above the ceiling, never a decrease, a guess (no measured
demand) moves at most `max_multiple` × the current value and a measured demand at most
`max_measured_multiple` ×; within the cooldown after a raise, another raise needs a shortfall
measured by CloudWatch (never datapoints the event claims). One capacity change per pass (the
table goes UPDATING and refuses another): the resource short by the most goes first, the others
wait for the next look. A raise wanted while the resource is UPDATING waits (defer: Lambda
retries), unless the change in flight is the responder's own and already covers it (skip: a
retry would find the same, and its failure would page someone for nothing).

- `runbook.py`: `plan_throttle`, the runbook for one table, in the order it checks;
- `triage.py`: what is decided before the table is read (the alarm's state, the managed tag);
- `history.py`: the responder's capacity record (its intent) and the limits a change moves;
- `case.py`: what one pass reads (the table, the diagnosis, the alarm's evidence);
- `sizing.py`: the policy, the next value (minimum step or demand plus headroom), the
  ceiling and the cooldown;
- `verdicts.py`: what the plan concludes for one resource and dimension;
- `provisioned.py`, `on_demand.py`: the verdicts of a provisioned and an on-demand table;
- `conclusion.py`: from the verdicts to the plan's action, reason and next steps;
- `change.py`: the one capacity change of a pass, and what an UPDATING resource allows;
- `no_throttling.py`: why the alarm fired when CloudWatch shows nothing throttled;
- `fallback.py`: CloudWatch unreadable, the alarm's own metric decides;
- `plan.py`: the plan and its change; `words.py`: the shared wording.
"""
