"""DynamoDB auto-responder: the shared package shipped in the Lambda layer."""

__version__ = "0.6.0"
"""The project's one version (semantic versioning). pyproject.toml's `version`, template.yaml's
`AWS::ServerlessRepo::Application` `SemanticVersion` and the AWS clients' user agent
(`dynamodb-autoresponder/<version>`) carry it; `tests/unit/test_version.py` fails when a copy
disagrees. Releasing: CHANGELOG.md's `[Unreleased]` becomes this version (docs/upgrading.md)."""
