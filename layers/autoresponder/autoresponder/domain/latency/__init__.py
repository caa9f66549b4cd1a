"""Where latency gets judged: the pure comparison of the report_latency_regression runbook.

Per operation of a table, the current window's `SuccessfulRequestLatency` average is compared
with the same window one day and seven days earlier (a regression needs a ratio AND an absolute
floor, with enough samples on both sides) and with the operation's SLA target. For tables that
regressed, the usual causes are checked against the same window: throttling, consumed capacity
near provisioned, queries and scans returning many items, an UPDATING table or index, and a
recent capacity change by this responder.

- `policy.py`: the thresholds and the SLA targets;
- `windows.py`: the three windows compared and the metric series read for them;
- `comparison.py`: the verdict per operation;
- `causes.py`: the evidence of the usual causes, and which of them held;
- `conclusion.py`: the report's action, reason and next steps;
- `graph.py`: the CloudWatch console graph of the operations' latency.
"""
