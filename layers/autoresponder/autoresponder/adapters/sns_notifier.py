"""SNS: announce decisions (email text and AWS Chatbot format in one message)."""

from __future__ import annotations

from typing import Any

from autoresponder.adapters.aws_errors import AWS_ERRORS, translate
from autoresponder.adapters.clients import AwsAdapter
from autoresponder.domain.notification import Notification


class SnsNotifier(AwsAdapter):
    """Implements `Notifier`."""

    service = "sns"

    def __init__(self, topic_arn: str, client: Any = None, region: str | None = None) -> None:
        self.topic_arn = topic_arn
        super().__init__(client, region)

    def publish(self, notification: Notification) -> None:
        try:
            self.client.publish(
                TopicArn=self.topic_arn,
                Subject=notification.subject,
                Message=notification.sns_message(),
                MessageStructure="json",
                MessageAttributes={
                    key: {"DataType": "String", "StringValue": value}
                    for key, value in notification.attributes.items()
                },
            )
        except AWS_ERRORS as exc:
            raise translate(exc, "Publish", topic=self.topic_arn) from exc
