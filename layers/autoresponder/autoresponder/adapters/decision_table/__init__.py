"""The decision table: one DynamoDB table, one adapter per concern over it.

- `decisions.py`: decision records, with their notification's own state (`notification`:
  `none`, `pending`, `sent`, `failed`; `notification_attempts`): the record is the truth, the
  notification a step after it. A raw event kept with a `reject` is cut to fit DynamoDB's item
  limit (its size and the SHA-256 of the whole are kept).
- `scale_history.py`: capacity records, the intent of a change and its history (scale-back).
- `locks.py`: per-table locks.
- `attempts.py`: delivery attempts of an event.
- `table.py`: what they share: the table's name, the client and the error translation.

Every key built from a name is bounded (`models.decision.bounded`).

Key layout (partition key `pk`, sort key `sk`, TTL `expires_at` in epoch seconds):

| item              | pk                     | sk                                          |
|-------------------|------------------------|---------------------------------------------|
| decision record   | `DECISION#<table>`     | `ALARM#<state timestamp>#<alarm>#<runbook>` |
|                   |                        | or `RUN#<decided at>#<runbook>`             |
| rejected event    | `REJECT`               | `<decided at>#<runbook>#<event id>`         |
| latency report    | `REPORT#report_latency_regression` | `RUN#<scheduled time>`          |
| capacity record   | `SCALE`                | `<table>#<index or ->#<read/write>`         |
| (intent + history)|                        |                                             |
| table lock        | `LOCK`                 | `<table>`                                   |
| delivery attempts | `ATTEMPT`              | `<runbook>#<alarm>@<state timestamp>`       |
| idempotency       | `IDEMPOTENCY#<runbook>`| Powertools' hash of the event key           |
"""
