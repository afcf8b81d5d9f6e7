"""A new provider with credentials and an emulator of its own needs no line in the CLI nor the host (issue 21,
CONTRIBUTING.md "Adding a push target"): a throw-away provider package (its ``CREDENTIALS``), named in
``PROVIDERS`` (the one registry line), and its emulator package (``process.py``), both in a temporary folder,
are picked up by `certpush credentials`, the simulated home's start and the host's secrets as they are."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import certpush_emulators
from certpush.providers import registry
from certpush_cli.host import simulators
from certpush_cli.host.home import Home
from certpush_cli.host.processes import is_alive
from certpush_cli.host.wiring import Host
from certpush_cli.main import app

pytestmark = pytest.mark.host

PROVIDER = """
from certpush.providers.credentials import CredentialField, ProviderCredentials
from certpush.providers.definition import TargetSettings


class FakeCloudSettings(TargetSettings):
    ENV_PREFIX = "FAKECLOUD_"
    credentials_secret_id: str | None = None
    endpoint: str | None = None


DEFINITIONS = ()
HINTS = {}
CREDENTIALS = ProviderCredentials(
    title="Fake Cloud",
    settings=FakeCloudSettings,
    named_by="credentials_secret_id",
    fields=(
        CredentialField("key_id", "Fake Cloud key id", "FAKECLOUD_KEY_ID", secret=False),
        CredentialField("key_secret", "Fake Cloud key secret", "FAKECLOUD_KEY_SECRET", secret=True),
    ),
)
"""

EMULATOR_PROCESS = """
from certpush_emulators.processes import EmulatorProcess

PROCESS = EmulatorProcess(
    provider="fakecloud",
    title="Fake Cloud emulator",
    module="fakecloud_emulator",
    arguments=lambda credentials: [f"--key-id={credentials['key_id']}"],
    environment=lambda url: {"FAKECLOUD_ENDPOINT": url},
    make_credentials=lambda: {"key_id": "FAKEKEY", "key_secret": "fake-secret"},
)
"""

EMULATOR_MAIN = '''
"""Listens until SIGTERM; writes the arguments it was given beside itself."""
import pathlib, signal, socket, sys, threading

(pathlib.Path(__file__).parent / "arguments.txt").write_text(" ".join(sys.argv[1:]))
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
stopped = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stopped.set())
print(f"listening http://127.0.0.1:{server.getsockname()[1]}", flush=True)
stopped.wait()
'''


@pytest.fixture
def fakecloud(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The provider package, its one line in ``PROVIDERS`` and its emulator package; the folder they are in."""
    folder = tmp_path / "code"
    (folder / "emulators" / "fakecloud").mkdir(parents=True)
    (folder / "fakecloud.py").write_text(textwrap.dedent(PROVIDER))
    (folder / "emulators" / "fakecloud" / "__init__.py").write_text("")
    (folder / "emulators" / "fakecloud" / "process.py").write_text(textwrap.dedent(EMULATOR_PROCESS))
    (folder / "fakecloud_emulator.py").write_text(textwrap.dedent(EMULATOR_MAIN))
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("PYTHONPATH", str(folder))  # the emulator's own process imports it too
    monkeypatch.setattr(certpush_emulators, "__path__", [*certpush_emulators.__path__, str(folder / "emulators")])
    import fakecloud  # type: ignore[import-not-found]

    monkeypatch.setattr(registry, "PROVIDERS", (*registry.PROVIDERS, fakecloud))  # the registry line
    for name in ("FAKECLOUD_KEY_ID", "FAKECLOUD_KEY_SECRET", "CERTPUSH_STACK", "CERTPUSH_HOME"):
        monkeypatch.delenv(name, raising=False)
    yield folder
    for name in [n for n in sys.modules if n.startswith(("fakecloud", "certpush_emulators.fakecloud"))]:
        del sys.modules[name]


def test_the_cli_stores_the_new_providers_credentials(fakecloud: Path, tmp_path: Path) -> None:
    home = str(tmp_path / "home")

    stored = CliRunner().invoke(
        app, ["credentials", "set", "fakecloud", "--access-key", "FAKEKEY1", "--secret-key-stdin", "--home", home],
        input="fake-secret\n", catch_exceptions=False,
    )  # fmt: skip
    shown = CliRunner().invoke(app, ["credentials", "show", "--home", home], catch_exceptions=False)

    assert stored.exit_code == 0, stored.stderr
    assert "fakecloud: stored in the home (key_id FAKE…)" in shown.stdout.splitlines()
    host = Host.open(Home.open(Path(home)), environ={})
    assert host._credentials("fakecloud") == {"key_id": "FAKEKEY1", "key_secret": "fake-secret"}
    host.close()


def test_a_simulated_home_starts_the_new_providers_emulator(fakecloud: Path, tmp_path: Path) -> None:
    home = Home.open(tmp_path / "home")
    home.config_file.write_text("simulate = true\nsimulate_aws = false\n")
    try:
        simulation = simulators.ensure_running(home)

        fake = simulation.processes["fakecloud"]
        assert is_alive(fake.identity)
        assert (fakecloud / "arguments.txt").read_text() == "--key-id=FAKEKEY"
        assert simulation.environment()["FAKECLOUD_ENDPOINT"] == fake.url
        host = Host.open(home, environ={}, simulation=simulation)
        assert host._credentials("fakecloud") == {"key_id": "FAKEKEY", "key_secret": "fake-secret"}
        host.close()
        status = CliRunner().invoke(app, ["simulators", "status", "--home", str(home.path)], catch_exceptions=False)
        assert f"fakecloud {fake.url} (pid {fake.pid})" in status.stdout.splitlines()
        assert simulators.ensure_running(home) == simulation  # reused, not started again
    finally:
        stopped = simulators.stop(home)
    assert fake.pid in stopped and not is_alive(fake.identity)
