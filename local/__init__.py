"""Local development without Docker: an embedded local AWS, a demo account, the demo.

`python -m local.demo` runs every sample event in `events/` through the functions, in-process,
against moto in server mode (`local.emulator`) seeded with the demo account (`local.seed`);
`python -m local.invoke` runs one event. Nothing here ships: the Lambda layer does not know
this package exists.

The shipped package lives in the layer folder; pytest finds it through `pythonpath` in
pyproject.toml, and `python -m local.…` through the path added here.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository root."""
LAYER = ROOT / "layers" / "autoresponder"
EVENTS = ROOT / "events"
FUNCTIONS = ROOT / "functions"

for _path in (str(LAYER), str(ROOT)):
    if _path not in sys.path:
        sys.path.append(_path)
