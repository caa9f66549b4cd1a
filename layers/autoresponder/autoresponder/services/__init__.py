"""One use case per runbook: read → decide → act → record → notify."""
