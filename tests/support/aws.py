"""S3 and SQS for tests: one moto server per test session (per xdist worker) on a free 127.0.0.1 port.

Fake credentials are set in the environment for the session so boto3 never looks for real ones.
Names are unique per call: tests share the server, never a bucket or queue.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

REGION = "us-east-1"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """Endpoint URL (``http://127.0.0.1:PORT``) of a running moto server with S3 and SQS."""
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as mp:
        for name, value in FAKE_CREDENTIALS.items():
            mp.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL"):
            mp.delenv(name, raising=False)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per request otherwise
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def s3_client(endpoint_url: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=REGION, **_credentials())


def sqs_client(endpoint_url: str) -> Any:
    return boto3.client("sqs", endpoint_url=endpoint_url, region_name=REGION, **_credentials())


def _credentials() -> dict[str, str]:
    # Explicit, so helpers also work outside the fixture's environment patch.
    return {
        "aws_access_key_id": os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        "aws_secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
    }


def make_bucket(endpoint_url: str, name: str | None = None) -> str:
    """Create a bucket with a unique name on the moto server; returns its name."""
    bucket = name or unique_name("tt-bucket")
    s3_client(endpoint_url).create_bucket(Bucket=bucket)
    return bucket


def make_queue(
    endpoint_url: str, name: str | None = None, *, max_receives: int = 5, visibility_timeout: int = 30
) -> tuple[str, str]:
    """Create a queue and its dead-letter queue (RedrivePolicy maxReceiveCount); returns (queue URL, DLQ URL)."""
    queue_name = name or unique_name("tt-queue")
    client = sqs_client(endpoint_url)
    dlq_url = client.create_queue(QueueName=f"{queue_name}-dlq")["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = client.create_queue(
        QueueName=queue_name,
        Attributes={
            "VisibilityTimeout": str(visibility_timeout),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)}),
        },
    )["QueueUrl"]
    return queue_url, dlq_url


@pytest.fixture
def s3_bucket(moto_server: str) -> str:
    """A fresh bucket on the moto server."""
    return make_bucket(moto_server)


@pytest.fixture
def sqs_queue(moto_server: str) -> tuple[str, str]:
    """A fresh (queue URL, DLQ URL) pair on the moto server, maxReceiveCount 3, visibility 30 s."""
    return make_queue(moto_server, max_receives=3)
