"""The only place that calls AWS (boto3)."""
