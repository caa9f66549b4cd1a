"""Checks on template.yaml, on the CloudFormation the SAM translator makes of it, and routing."""
