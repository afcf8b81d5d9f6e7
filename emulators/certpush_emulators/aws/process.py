"""How moto runs for a simulated home (``certpush_emulators.processes``). The embedded stack runs its own
moto (AWS is the platform it emulates), so there is no in-process form here."""

from __future__ import annotations

import os

from certpush_emulators.processes import EmulatorProcess


def _environment(url: str) -> dict[str, str]:
    """What boto3 needs to reach moto instead of AWS (fake credentials: moto takes any)."""
    return {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "certpush-simulated",
        "AWS_SECRET_ACCESS_KEY": "certpush-simulated",  # moto takes any credential
        "AWS_SESSION_TOKEN": "certpush-simulated",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }


PROCESS = EmulatorProcess(
    provider="aws",
    title="AWS (moto)",
    module="certpush_emulators.aws.moto_process",
    arguments=lambda credentials: ["0", "--until-terminated"],
    environment=_environment,
    requires="moto",
    missing="AWS targets are not simulated: moto is not installed; hint: pip install 'certpush[simulate]'",
)
