"""The deploy path a new user follows: `make deploy`, guided the first time, with the project's
SAM CLI and first-deploy defaults that change nothing (README, Deploy step 1)."""

from __future__ import annotations

import os
import shlex
import subprocess
import tomllib
from pathlib import Path

import pytest

from scripts.deploy_flags import answers_saved, deploy_flags
from tests.template.cfn import load_template

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "samconfig.toml").read_text())


def overrides(env: str) -> dict[str, str]:
    raw = CONFIG[env]["deploy"]["parameters"]["parameter_overrides"]
    return dict(item.split("=", 1) for item in shlex.split(raw))


def test_a_first_deploy_decides_and_announces_but_changes_nothing():
    """Enter at every prompt of the guided deploy: dry run, nothing reserved, and the email
    asked for (no saved value to accept)."""
    parameters = load_template()["Parameters"]
    assert parameters["DryRun"]["Default"] == "true"
    assert parameters["ReservedConcurrency"]["Default"] == 0
    assert parameters["NotificationEmail"]["Default"] == ""
    first = overrides("default")
    assert first["DryRun"] == "true"
    assert first["ReservedConcurrency"] == "0"
    assert first["Stage"] == "dev"
    assert "NotificationEmail" not in first  # the guided deploy asks for it


def test_prod_has_the_live_settings():
    live = overrides("prod")
    assert live["Stage"] == "prod"
    assert live["DryRun"] == "false"
    assert int(live["ReservedConcurrency"]) > 0
    assert CONFIG["prod"]["global"]["parameters"]["stack_name"] == "dynamodb-autoresponder-prod"
    assert CONFIG["prod"]["deploy"]["parameters"]["confirm_changeset"] is True


@pytest.mark.parametrize("env", ["default", "prod"])
def test_a_fresh_clone_deploys_guided(env):
    assert not answers_saved(CONFIG, env)
    assert deploy_flags(CONFIG, env) == ["--guided"]


@pytest.mark.parametrize(
    ("saved_region", "guided", "flags"),
    [
        pytest.param(None, None, ["--guided"], id="nothing-saved"),
        pytest.param("eu-west-1", None, [], id="answers-saved"),
        pytest.param("eu-west-1", "1", ["--guided"], id="asked-again"),
        pytest.param(None, "0", [], id="never-asked"),
    ],
)
def test_guided_until_the_answers_are_saved(saved_region, guided, flags):
    parameters = dict(CONFIG["default"]["deploy"]["parameters"])
    if saved_region:
        parameters["region"] = saved_region  # what `sam deploy --guided` saves
    config = {"default": {"deploy": {"parameters": parameters}}}
    assert deploy_flags(config, "default", guided) == flags


def make_n(*args: str) -> str:
    environment = {
        k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}
    }
    answer = subprocess.run(
        ["make", "-n", *args], cwd=ROOT, env=environment, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    return answer.stdout


@pytest.mark.parametrize(("args", "env"), [((), "default"), (("CONFIG_ENV=prod",), "prod")])
def test_make_deploy_builds_checks_and_deploys_with_the_projects_sam_cli(args, env):
    commands = make_n("deploy", *args)
    build = commands.index(".venv-sam/bin/sam build")
    check = commands.index("scripts/check_layer.py")
    deploy = commands.index(f".venv-sam/bin/sam deploy --config-env {env}")
    assert build < check < deploy
    assert "scripts/deploy_flags.py --config-env " + env in commands[deploy:]
