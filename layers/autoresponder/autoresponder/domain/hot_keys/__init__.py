"""Where hot keys get decided: the pure flag_hot_keys runbook.

A hot partition throttles however much capacity the table has: one partition serves at most
3,000 read units and 1,000 write units per second. From the Contributor Insights reports of the
alarm's window this package ranks the keys, flags the hot ones (share of the traffic or rate
against the per-partition limit above a threshold) and recommends, for each, write sharding
(with a suffix count), caching (hot reads) or a key redesign (skew below the limit).

- `policy.py`: the thresholds and the per-partition limits;
- `trigger.py`: which alarms the runbook looks at, and the resource a rule name points at;
- `window.py`: the window of the Contributor Insights reports read;
- `ranking.py`: the load of each key from the reports, and which keys are hot;
- `recommendation.py`: sharding, caching or a key redesign for one hot key;
- `decision.py`: the report's action, reason and next steps;
- `insights.py`: Contributor Insights off: what it would cost, and the command to turn it on.
"""
