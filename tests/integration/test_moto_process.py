"""moto's own process: says where it listens, serves AWS calls, stops when its parent lets go."""

from __future__ import annotations

import socket
import subprocess
import sys

import boto3
import pytest

pytestmark = pytest.mark.integration


def _start(port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "certpush_emulators.aws.moto_process", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_it_serves_until_its_standard_input_closes() -> None:
    process = _start(0)
    assert process.stdout is not None and process.stdin is not None
    word, host, port = process.stdout.readline().split()
    try:
        sqs = boto3.client(
            "sqs",
            endpoint_url=f"http://{host}:{port}",
            region_name="us-east-1",
            aws_access_key_id="k",
            aws_secret_access_key="s",
        )
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        assert word == "listening"
        assert sqs.list_queues()["QueueUrls"] == [url]
    finally:
        process.stdin.close()
        assert process.wait(timeout=20) == 0


def test_a_taken_port_is_said_and_it_exits() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        process = _start(taken.getsockname()[1])
        out, errors = process.communicate(timeout=60)

    assert process.returncode == 1
    assert out == ""
    assert "in use" in errors  # werkzeug says so, and which port
