"""Where scale-back gets decided: the pure capacity lifecycle after a raise (scale_back).

For every table, index and dimension the responder raised (its `ScaleHistory` holds the
original value), go back to what the table needs once the episode is over:

- only after a stabilization window since the last raise (10 minutes by default; doubled for a
  unit that throttled again soon after a decrease), in which nothing was throttled and the
  demand stayed below the raised value;
- straight to the window's peak demand plus headroom, never below the original, in ONE
  decrease; never while any throttling alarm of the table is in ALARM, never while the table or
  index is UPDATING;
- provisioned decreases respect the daily decrease budget of the table or index, keep the last
  decrease of the day in reserve (unless configured otherwise), and skip cuts too small to be
  worth a decrease;
- Auto Scaling targets get their original MinCapacity/MaxCapacity back (the table is left to
  Auto Scaling); on-demand caps get their original value back.

"Nothing to do yet" is a `hold` with a reason (still busy, budget, stabilizing). A raise that
was changed by someone else, or whose table opted out, is no longer tracked (`skip` + forget).

Raising again while throttling lasts is the throttle runbook's own pass (`domain/scaling/`),
run by scale_back on the same observation; this package only names the alarms that keep a
table from being scaled back.

- `policy.py`: the settings, and the stabilization window of a unit;
- `plan.py`: what one decision reads (`ScaleBackCase`) and returns (`BackPlan`, hold, forget);
- `precheck.py`: the decisions that need no metric (replayed, no longer tracked, busy, stabilizing);
- `decision.py`: the step back, from the window's activity: a decrease, a restore, or a hold;
- `one_change.py`: one change per table and run;
- `alarms.py`: the throttling alarms still in ALARM (the follow-ups' input).
"""
