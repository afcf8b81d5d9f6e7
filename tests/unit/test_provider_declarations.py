"""What a provider package declares of its credentials (``CREDENTIALS``, ``certpush.providers.credentials``)
and an emulator package of how it runs (``process.py``, ``certpush_emulators.processes``) drive the
one-machine host: `certpush credentials`, the secrets its targets read, and its simulated home, whose
``simulators.json`` of an older certpush keeps working (issue 21)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from certpush.errors import ConfigurationError
from certpush.providers.registry import REGISTRY
from certpush_cli import help_texts
from certpush_cli.credentials import provider_credentials
from certpush_cli.exit_codes import ExitCode
from certpush_cli.host import simulators
from certpush_cli.host.home import Home
from certpush_cli.host.processes import process_identity
from certpush_cli.host.simulators import SimulatedProcess, Simulation
from certpush_cli.host.wiring import Host, UnavailableTarget
from certpush_cli.main import app
from certpush_emulators.processes import all_processes

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _no_credentials_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for declared in provider_credentials().values():
        for item in declared.fields:
            monkeypatch.delenv(item.variable, raising=False)
    monkeypatch.delenv("CERTPUSH_STACK", raising=False)


def _cli(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_the_credentials_help_names_what_the_providers_declare() -> None:
    """They give one provider as an example (a new provider need not edit them): a declared one, with its
    variables."""
    huawei = provider_credentials()["huaweicloud"]
    secret = next(f for f in huawei.stored_fields if f.secret)

    assert "e.g. huaweicloud " in help_texts.CREDENTIALS_PROVIDER_HELP
    assert f"e.g. {huawei.identifier.variable} for huaweicloud" in help_texts.CREDENTIALS_ACCESS_KEY_HELP
    assert f"e.g. {secret.variable} for huaweicloud" in help_texts.CREDENTIALS_SECRET_KEY_HELP


def test_a_declaration_names_its_secret_by_its_settings() -> None:
    huawei = provider_credentials()["huaweicloud"]

    assert huawei.secret_id_variable == "HUAWEICLOUD_CREDENTIALS_SECRET_ID"
    assert huawei.stack_output == "HuaweiCloudCredentialsSecretId"
    assert [f.key for f in huawei.stored_fields] == ["access_key", "secret_key"]
    environ = {"HUAWEICLOUD_ACCESS_KEY": "AK", "HUAWEICLOUD_SECRET_KEY": "SK", "HUAWEICLOUD_SECURITY_TOKEN": "T"}
    assert huawei.from_environment(environ) == {"access_key": "AK", "secret_key": "SK", "security_token": "T"}
    assert huawei.from_environment({"HUAWEICLOUD_ACCESS_KEY": "AK"}) is None
    assert "aws" not in provider_credentials()  # boto3's chain


def test_credentials_set_show_and_remove_work_for_a_declared_provider(tmp_path: Path) -> None:
    home = str(tmp_path / "home")

    code, stdout, _ = _cli(
        "credentials", "set", "huaweicloud", "--access-key", "AKEXAMPLE", "--secret-key-stdin", "--home", home,
        input="the-secret\n",
    )  # fmt: skip

    assert code == 0 and "AKEX" in stdout and "the-secret" not in stdout
    host = Host.open(Home.open(Path(home)), environ={})
    assert host.credentials.get("huaweicloud") == {"access_key": "AKEXAMPLE", "secret_key": "the-secret"}
    assert host._credentials("huaweicloud") == {"access_key": "AKEXAMPLE", "secret_key": "the-secret"}
    host.close()
    code, stdout, _ = _cli("credentials", "show", "--home", home)
    assert code == 0 and stdout.strip() == "huaweicloud: stored in the home (access_key AKEX…)"
    environ = {"HUAWEICLOUD_ACCESS_KEY": "AKFROMENV", "HUAWEICLOUD_SECRET_KEY": "sk", "HUAWEICLOUD_SECURITY_TOKEN": "t"}
    from_environment = Host.open(Home.open(Path(home)), environ=environ)
    assert from_environment._credentials("huaweicloud") == {"access_key": "AKFROMENV", "secret_key": "sk",
                                                            "security_token": "t"}  # fmt: skip
    from_environment.close()

    code, stdout, _ = _cli("credentials", "remove", "huaweicloud", "--home", home)

    assert code == 0 and stdout.strip() == "huaweicloud credentials removed"
    host = Host.open(Home.open(Path(home)), environ={})
    with pytest.raises(ConfigurationError, match="hint: certpush credentials set huaweicloud"):
        host._credentials("huaweicloud")
    host.close()


@pytest.mark.parametrize("provider", ["aws", "nosuchcloud"])
def test_credentials_for_a_provider_that_declares_none_is_a_usage_error(tmp_path: Path, provider: str) -> None:
    code, _stdout, stderr = _cli(
        "credentials", "set", provider, "--access-key", "AK", "--secret-key-stdin", "--home", str(tmp_path),
        input="SK\n",
    )  # fmt: skip

    assert code == ExitCode.USAGE
    assert len(stderr.strip().splitlines()) == 1 and "hint: huaweicloud" in stderr


def test_credentials_without_a_secret_store_nothing(tmp_path: Path) -> None:
    code, _, stderr = _cli(
        "credentials", "set", "huaweicloud", "--access-key", "AK", "--secret-key-stdin", "--home", str(tmp_path),
        input="\n",
    )  # fmt: skip

    assert code == ExitCode.USAGE and "nothing was stored" in stderr
    host = Host.open(Home.open(tmp_path), environ={})
    assert host.credentials.get("huaweicloud") is None
    host.close()


def _first_format(url: str, aws: dict[str, object] | None) -> str:
    """simulators.json as certpush wrote it before simulators were declared by provider."""
    return json.dumps(
        {
            "huaweicloud": {"pid": os.getpid(), "identity": process_identity(), "url": url},
            "huaweicloud_access_key": "SIMOLDKEY",
            "huaweicloud_secret_key": "-old-secret",
            "aws": aws,
            "aws_missing": None if aws else "AWS targets are not simulated: simulate_aws = false",
        },
        indent=2,
    )


def test_a_home_simulated_by_an_older_certpush_keeps_its_simulators(tmp_path: Path) -> None:
    """The processes it lists still run (here: this one), so opening the home reuses them, with the
    credentials the simulator was started with; a provider it did not simulate stays unavailable."""
    home = Home.open(tmp_path / "home")
    home.config_file.write_text("simulate = true\nsimulate_aws = false\n")
    home.simulators_file.write_text(_first_format("http://127.0.0.1:1", aws=None))

    simulation = simulators.ensure_running(home)

    assert simulation.processes == {
        "huaweicloud": SimulatedProcess(os.getpid(), process_identity(), "http://127.0.0.1:1")
    }
    assert simulation.credentials == {"huaweicloud": {"access_key": "SIMOLDKEY", "secret_key": "-old-secret"}}
    assert simulation.missing == {"aws": "AWS targets are not simulated: simulate_aws = false"}
    assert simulation.environment() == {"HUAWEICLOUD_ENDPOINT_TEMPLATE": "http://127.0.0.1:1"}
    host = Host.open(home, environ={}, simulation=simulation)
    assert host._credentials("huaweicloud") == {"access_key": "SIMOLDKEY", "secret_key": "-old-secret"}
    for definition in REGISTRY:
        target = host.targets[(definition.provider, definition.service)]
        assert isinstance(target, UnavailableTarget) == (definition.provider == "aws"), definition.name
    host.close()
    assert Simulation.from_json(simulation.to_json()) == simulation  # and it is written in the new form


def test_the_old_form_with_a_simulated_aws_reads_both_processes() -> None:
    aws = {"pid": 1, "identity": "x", "url": "http://127.0.0.1:2"}

    simulation = Simulation.from_json(_first_format("http://127.0.0.1:1", aws=aws))

    assert simulation.processes["aws"] == SimulatedProcess(1, "x", "http://127.0.0.1:2")
    assert simulation.missing == {}
    assert simulation.environment()["AWS_ENDPOINT_URL"] == "http://127.0.0.1:2"


def test_every_emulator_process_is_a_registered_provider_and_knows_how_it_starts() -> None:
    providers = set(REGISTRY.providers())

    for emulator in all_processes():
        assert emulator.provider in providers
        assert emulator.arguments(emulator.make_credentials()) is not None
        assert emulator.environment("http://127.0.0.1:1")
    declared = provider_credentials()
    for emulator in all_processes():
        # a simulator of a provider with credentials of its own accepts some, as the provider's secret holds them
        if emulator.provider in declared:
            keys = {f.key for f in declared[emulator.provider].stored_fields}
            assert set(emulator.make_credentials()) == keys
