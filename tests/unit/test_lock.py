"""What is tested is what ships: one lock (constraints.txt) for .venv, the layer and CI.

The layer's own versions are compared with the lock and with this environment's by
scripts/check_layer.py on the built layer (`make build-check`, part of the gate).
"""

from __future__ import annotations

import importlib.metadata
import platform
import re
import sys
import tomllib
from pathlib import Path

import pytest

from scripts.check_layer import locked_versions
from tests.template.cfn import load_template, sam_function_ids

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "constraints.txt"
LAYER = ROOT / "layers" / "autoresponder"


def this_environment() -> dict[str, str]:
    return {
        "python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
        "python_full_version": platform.python_version(),
        "implementation_name": sys.implementation.name,
        "platform_python_implementation": platform.python_implementation(),
        "sys_platform": sys.platform,
        "platform_system": platform.system(),
        "platform_machine": platform.machine(),
        "os_name": "posix" if sys.platform != "win32" else "nt",
    }


def requirement_names(path: Path) -> set[str]:
    names = set()
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            name = re.split(r"[\s\[<>=!~;]", line, maxsplit=1)[0]
            names.add(re.sub(r"[-_.]+", "-", name).lower())
    return names


def test_the_layers_requirements_are_all_pinned():
    pins = locked_versions(LOCK)  # as the runtime (CPython 3.13, Linux arm64) sees them
    layer = requirement_names(LAYER / "requirements.txt")
    assert layer == {"aws-lambda-powertools", "pydantic", "pydantic-settings"}
    for name in (*layer, "pydantic-core", "typing-extensions", "aws-xray-sdk", "wrapt"):
        assert name in pins, name


def test_this_environment_is_the_lock():
    """The venv the tests run in has exactly the locked version of everything it shares with
    the lock (make venv installs with -c constraints.txt)."""
    pins = locked_versions(LOCK, this_environment())
    installed = {
        re.sub(r"[-_.]+", "-", d.metadata["Name"]).lower(): d.version
        for d in importlib.metadata.distributions()
    }
    for name in ("pydantic", "pydantic-core", "aws-lambda-powertools", "pydantic-settings"):
        assert name in installed, f"{name} is not installed here"
    differing = {
        name: (installed[name], pin)
        for name, pin in pins.items()
        if name in installed and installed[name] != pin
    }
    assert differing == {}


def test_the_venv_the_layer_and_ci_install_from_the_lock():
    makefile = (ROOT / "Makefile").read_text()
    assert "LOCK := constraints.txt" in makefile
    assert "pip install --quiet -c $(LOCK) -r requirements-dev.txt" in makefile
    assert "pip install --quiet -c $(LOCK) -r requirements-bench.txt" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text()  # CI: the venv above
    layer_makefile = (LAYER / "Makefile").read_text()
    assert "--constraint $(CONSTRAINTS)" in layer_makefile
    assert "CONSTRAINTS := constraints.txt" in layer_makefile
    # sam build copies the layer folder: the lock is there, as a link to the one lock
    link = LAYER / "constraints.txt"
    assert link.is_symlink()
    assert link.resolve() == LOCK.resolve()


@pytest.mark.parametrize("environment", ["default", "prod"])
def test_sam_build_leaves_every_function_folder_as_it_is(environment):
    """The functions have no dependencies of their own (the layer has them): excluded from the
    build, so no 'requirements.txt file not found' and no CPython 3.13 needed on PATH."""
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    excluded = set(config[environment]["build"]["parameters"]["exclude"])

    template = load_template()
    functions = set(sam_function_ids(template))
    assert excluded == functions
    for logical_id in functions:
        code = ROOT / template["Resources"][logical_id]["Properties"]["CodeUri"]
        assert not (code / "requirements.txt").exists()  # nothing for a build to install
