"""DynamoDB auto-responder: the shared package shipped in the Lambda layer."""
