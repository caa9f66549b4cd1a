"""One version: `autoresponder.__version__`, and the copies that must agree with it (pyproject,
the Serverless Application Repository metadata, the AWS clients' user agent, the changelog)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from botocore.awsrequest import AWSResponse

from autoresponder import __version__
from autoresponder.adapters import clients
from tests.template.cfn import load_template

ROOT = Path(__file__).resolve().parents[2]
# semver.org's pattern (major.minor.patch, optional pre-release and build)
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


def _numbers(version: str) -> tuple[int, int, int]:
    major, minor, patch = version.split("-", maxsplit=1)[0].split("+", maxsplit=1)[0].split(".")
    return int(major), int(minor), int(patch)


def test_the_version_is_semantic():
    assert SEMVER.match(__version__)


def test_pyproject_carries_the_version():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["version"] == __version__


def test_the_serverless_application_repository_metadata_carries_the_version():
    metadata = load_template()["Metadata"]["AWS::ServerlessRepo::Application"]
    assert metadata["SemanticVersion"] == __version__


def test_every_aws_request_names_the_responder_and_its_version(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    clients.client.cache_clear()
    sent: list[str] = []

    def capture(request: Any, **_: Any) -> AWSResponse:
        sent.append(request.headers["User-Agent"].decode())
        return AWSResponse(request.url, 200, {}, _Raw(b"{}"))

    dynamodb = clients.client("dynamodb", "us-east-1")
    dynamodb.meta.events.register("before-send.dynamodb.ListTables", capture)
    try:
        dynamodb.list_tables()
    finally:
        clients.client.cache_clear()
    (agent,) = sent
    assert f"dynamodb-autoresponder/{__version__}" in agent.split(" ")


def test_the_changelog_has_an_unreleased_section_and_no_release_above_the_version():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", changelog, re.M)
    assert released, "no released version in CHANGELOG.md"
    assert released == sorted(released, key=_numbers, reverse=True), "newest first"
    assert _numbers(released[0]) <= _numbers(__version__)
    for version in released:
        assert f"[{version}]: " in changelog, f"link for {version}"


class _Raw:
    """The smallest raw body botocore reads a response from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body

    def read(self, *_: Any) -> bytes:
        body, self._body = self._body, b""
        return body
