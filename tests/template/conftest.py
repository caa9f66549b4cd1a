"""Fixtures: the SAM template and the CloudFormation it translates to (once per session)."""

from __future__ import annotations

from typing import Any

import pytest

from .cfn import load_template, parameter_defaults, translate
from .routing import PSEUDO_PARAMETERS


@pytest.fixture(scope="session")
def sam_template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="session")
def cfn(sam_template: dict[str, Any]) -> dict[str, Any]:
    """template.yaml after the AWS::Serverless transform, with default parameter values."""
    return translate(sam_template)


@pytest.fixture(scope="session")
def defaults(sam_template: dict[str, Any]) -> dict[str, Any]:
    """The parameters' defaults, and the pseudo parameters of a stack in the sample events'
    account and Region."""
    return {**parameter_defaults(sam_template), **PSEUDO_PARAMETERS}
