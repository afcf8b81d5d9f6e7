"""How the Huawei Cloud simulator runs (``certpush_emulators.processes``): in the background for a
simulated home, in process for the embedded stack."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from certpush_emulators.processes import EmulatorProcess


def _credentials() -> dict[str, str]:
    """A fresh AK/SK, as the provider's secret holds them (``certpush.providers.huaweicloud.CREDENTIALS``)."""
    return {"access_key": f"SIM{secrets.token_hex(8).upper()}", "secret_key": secrets.token_urlsafe(24)}


def _arguments(credentials: Mapping[str, str]) -> list[str]:
    # "--name=value": a key of URL-safe characters may start with "-", which a parser takes for an option
    return [f"--access-key={credentials['access_key']}", f"--secret-key={credentials['secret_key']}"]


def _in_process(port: int, credentials: Mapping[str, str]) -> Any:
    from certpush_emulators.huaweicloud.simulator import HuaweiCloudSimulator

    pair = {credentials["access_key"]: credentials["secret_key"]}
    return HuaweiCloudSimulator(port=port, credentials=pair).start()


PROCESS = EmulatorProcess(
    provider="huaweicloud",
    title="Huawei Cloud simulator",
    module="certpush_emulators.huaweicloud",
    arguments=_arguments,
    # every service at the root of one address: the endpoint template is the URL (simulator.py)
    environment=lambda url: {"HUAWEICLOUD_ENDPOINT_TEMPLATE": url},
    make_credentials=_credentials,
    in_process=_in_process,
    template_parameters=lambda url: {"HuaweiCloudEndpointTemplate": url},
    port_option="--huawei-port",
    port_variable="CERTPUSH_DEV_HUAWEI_PORT",
    default_port=4598,
)
