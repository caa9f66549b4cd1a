"""The responder's tags, read the one way every runbook reads them.

`autoresponder:managed` grants permission to change a table, and IAM enforces it too:
`UpdateTable` and `RegisterScalableTarget` carry `StringEquals aws:ResourceTag/
autoresponder:managed = "true"`. `StringEquals` is case-sensitive and does not trim, so the code
reads the tag exactly the same way: the value `true`, nothing else (`TRUE`, ` true`, `yes` are
not managed). Reading it more loosely would let the code plan changes IAM then denies (or, on an
Auto Scaling target, half-apply them).

`autoresponder:dry-run` withdraws permission; IAM does not read it. Any spelling of true (case
and surrounding blanks ignored) counts, so a tag meant as a dry run never lets a change through.
"""

from __future__ import annotations

from collections.abc import Mapping

MANAGED_TAG = "autoresponder:managed"
DRY_RUN_TAG = "autoresponder:dry-run"
MAX_READ_TAG = "autoresponder:max-read-units"
MAX_WRITE_TAG = "autoresponder:max-write-units"
MANAGED_VALUE = "true"
"""The one value of `autoresponder:managed` that opts a table (or scalable target) in."""


def is_managed(tags: Mapping[str, str]) -> bool:
    """`autoresponder:managed` exactly as IAM's `StringEquals` reads it: `true`, case-sensitive,
    untrimmed."""
    return tags.get(MANAGED_TAG) == MANAGED_VALUE


def wants_dry_run(tags: Mapping[str, str]) -> bool:
    """`autoresponder:dry-run` set to any spelling of true (fails safe: see the module)."""
    return tags.get(DRY_RUN_TAG, "").strip().lower() == "true"


def positive_units(tags: Mapping[str, str], key: str) -> int | None:
    """A `max-*-units` tag as a positive whole number; anything else is no ceiling tag."""
    raw = tags.get(key, "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else None
