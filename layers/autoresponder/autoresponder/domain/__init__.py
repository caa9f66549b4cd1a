"""Pure decision logic: no boto3, no environment, no I/O."""
