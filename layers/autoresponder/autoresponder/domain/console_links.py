"""Links into the AWS console: a table's monitoring tab, an alarm, a CloudWatch metrics graph
(encoded as the console encodes it, JSURL)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import quote

CONSOLE = "https://{region}.console.aws.amazon.com"


def table_console_url(region: str, table_name: str) -> str:
    return (
        f"{CONSOLE.format(region=region)}/dynamodbv2/home?region={region}"
        f"#table?name={quote(table_name, safe='')}&tab=monitoring"
    )


def alarm_console_url(region: str, alarm_name: str) -> str:
    return (
        f"{CONSOLE.format(region=region)}/cloudwatch/home?region={region}"
        f"#alarmsV2:alarm/{quote(alarm_name, safe='')}"
    )


def metrics_graph_url(region: str, graph: Mapping[str, object]) -> str:
    """A CloudWatch console deep link to a metrics graph (`metrics`, `stat`, `period`, ...)."""
    return (
        f"{CONSOLE.format(region=region)}/cloudwatch/home?region={region}"
        f"#metricsV2:graph={jsurl(graph)}"
    )


def console_time(when: datetime) -> str:
    """A time as the console's graph links write it (`2026-11-20T14:12:00.000Z`)."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def jsurl(value: object) -> str:
    """The console's URL encoding of a graph (JSURL: `~(key~value)`, strings `~'...` with
    percent-escapes written `*xx`)."""
    if isinstance(value, bool):
        return "~true" if value else "~false"
    if isinstance(value, int | float):
        return f"~{value:g}" if isinstance(value, float) and not math.isnan(value) else f"~{value}"
    if isinstance(value, str):
        escaped = quote(value, safe="-_.").replace("~", "%7E")  # quote() keeps "~"
        encoded = re.sub(r"%([0-9A-F]{2})", lambda m: "*" + m.group(1).lower(), escaped)
        return "~'" + encoded
    if isinstance(value, Mapping):
        return "~(" + "~".join(f"{key}{jsurl(item)}" for key, item in value.items()) + ")"
    if isinstance(value, list | tuple):
        return "~(" + "".join(jsurl(item) for item in value) + ")"
    raise TypeError(f"cannot encode {type(value).__name__} in a console URL")
