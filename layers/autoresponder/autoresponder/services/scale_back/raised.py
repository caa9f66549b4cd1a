"""The raises a table's capacity records hold, by unit (index or table, and dimension)."""

from __future__ import annotations

from collections.abc import Mapping

from autoresponder.domain.scaling.history import ScaleHistory
from autoresponder.models.table import Dimension

Unit = tuple[str | None, Dimension]
Raised = dict[Unit, ScaleHistory]


def by_table(histories: Mapping[str, ScaleHistory]) -> dict[str, Raised]:
    """`<table>#<index or ->#<read/write>` keys (table and index names cannot hold `#`)."""
    raised: dict[str, Raised] = {}
    for key, history in histories.items():
        table_name, index, dimension = key.rsplit("#", 2)
        unit = None if index == "-" else index
        raised.setdefault(table_name, {})[(unit, Dimension(dimension))] = history
    return raised


def unit_order(key: Unit) -> tuple[str, str]:
    """The table first, then its indexes by name; read before write."""
    return key[0] or "", key[1].value


def in_unit_order(raised: Raised) -> list[tuple[Unit, ScaleHistory]]:
    return sorted(raised.items(), key=lambda item: unit_order(item[0]))
