"""The one exit-code policy of every command (``certpush`` and ``certpush-dev``): ``ExitCode``, one
code per kind of outcome (docs/operations.md "Exit codes" is the one place it is documented);
``user_errors``, which every command runs its body in, maps every error to one line on stderr (the
reason and a hint) and one ``ExitCode``, never a traceback; ``Failure`` is how a command refuses with
a code of its own; ``checked_id`` / ``known`` / ``refuse_unknown`` are the refusals commands share.
``tests/unit/test_cli_exit_policy.py`` checks that every command maps its errors through it and
``tests/e2e/test_exit_codes.py`` runs every command and outcome.

Light on purpose: ``certpush --help`` imports this module, so pydantic, botocore and the runtime are
imported when a command first fails, not before."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum
from typing import TYPE_CHECKING

import typer

from certpush_cli.help_texts import CERTIFICATE_ID_RULE
from certpush_cli.output import err

if TYPE_CHECKING:
    from pydantic import ValidationError

    from certpush.models.domain import PushRecord
    from certpush_cli.backends import Backend


class ExitCode(IntEnum):
    """The exit status of every command (``certpush`` and ``certpush-dev``): one per kind of outcome.
    docs/operations.md ("Exit codes") lists the same; ``tests/e2e/test_exit_codes.py`` checks every command."""

    OK = 0  # done, or nothing to do (already imported, already in place)
    PUSH_FAILED = 1  # push/replay --wait, retract, stack check: a target FAILED, was REJECTED or refused
    USAGE = 2  # a malformed command line (click's own usage errors are 2 as well)
    REFUSED = 3  # refused input or an unknown id (files, ids, certificates, records, policies): nothing changed
    TIMEOUT = 4  # --wait gave up before every target was final
    UNREACHABLE = 5  # the stack or host could not be reached, started or stopped, or its services failed
    ERROR = 5  # the older name of UNREACHABLE


def all_in_place(records: list[PushRecord]) -> bool:
    """Whether a push ends 0 rather than ``PUSH_FAILED``: every target SUCCEEDED, already had this
    version, or holds a newer one (SUPERSEDED)."""
    return all(r.status.is_fine or r.reason == "ALREADY_PUSHED" for r in records)


class Failure(Exception):
    """A message for the user and an exit code; no traceback."""

    def __init__(self, message: str, code: int = ExitCode.REFUSED) -> None:
        super().__init__(message)
        self.code = code


def validation_summary(exc: ValidationError) -> str:
    first = exc.errors(include_input=False, include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "input"
    return f"{where}: {first['msg']}" + (f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else "")


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


@contextmanager
def user_errors() -> Iterator[None]:
    """Every error a command meets ends as one line on stderr (the reason and a hint) and one
    ``ExitCode``, never a traceback."""
    from botocore.exceptions import BotoCoreError, ClientError
    from pydantic import ValidationError
    from typer.exceptions import TyperException

    from certpush.errors import CertpushError, ConfigurationError, DependencyError
    from certpush_emulators.fixtures import EmulatorUnreachable, FixtureRefused

    try:
        yield
    except (typer.Exit, typer.Abort, TyperException):
        raise  # typer.Exit and usage errors: click prints and exits on its own
    except Failure as exc:
        err.print(f"error: {one_line(exc)}")
        raise typer.Exit(exc.code) from exc
    except FixtureRefused as exc:  # an emulator refused to make a fixture (certpush simulators add-...)
        err.print(f"error: {one_line(exc)}")
        raise typer.Exit(ExitCode.REFUSED) from exc
    except EmulatorUnreachable as exc:
        err.print(f"error: {one_line(exc)}")
        raise typer.Exit(ExitCode.UNREACHABLE) from exc
    except ConfigurationError as exc:  # no such stack, or it cannot be reached (its message says how to fix it)
        err.print(f"error: {one_line(exc)}")
        raise typer.Exit(ExitCode.UNREACHABLE) from exc
    except DependencyError as exc:  # one of the stack's stores, queues or buses failed (connection refused...)
        err.print(f"error: {one_line(exc)}; hint: check that the stack runs (AWS_ENDPOINT_URL, AWS_REGION)")
        raise typer.Exit(ExitCode.UNREACHABLE) from exc
    except CertpushError as exc:
        err.print(f"error: {one_line(exc)}")
        raise typer.Exit(ExitCode.REFUSED) from exc
    except ValidationError as exc:
        err.print(f"error: invalid input: {validation_summary(exc)}; see certpush COMMAND --help")
        raise typer.Exit(ExitCode.REFUSED) from exc
    except (ClientError, BotoCoreError) as exc:
        err.print(f"error: the stack's AWS services answered: {one_line(exc)}; check the stack and AWS_ENDPOINT_URL")
        raise typer.Exit(ExitCode.UNREACHABLE) from exc
    except OSError as exc:  # a file or folder given on the command line (network errors come wrapped above)
        where = f" {exc.filename}" if exc.filename else ""
        err.print(f"error: cannot use{where}: {exc.strerror or exc}; hint: check the path and its permissions")
        raise typer.Exit(ExitCode.REFUSED) from exc
    except Exception as exc:
        err.print(f"error: unexpected {type(exc).__name__}; please report it (certpush --help for usage)")
        raise typer.Exit(ExitCode.UNREACHABLE) from exc


def checked_id(certificate_id: str) -> str:
    from certpush.models.domain import is_certificate_id

    if not is_certificate_id(certificate_id):
        shown = certificate_id if len(certificate_id) <= 40 else certificate_id[:40] + "…"
        raise Failure(f"{shown!r} is not a certificate id: {CERTIFICATE_ID_RULE}", ExitCode.REFUSED)
    return certificate_id


def known(chosen: Backend, certificate_id: str, version: int | None = None) -> None:
    """Refuses (exit 3, nothing changed) a certificate id or version that is not in the inventory."""
    from certpush.errors import CertificateNotFoundError

    try:
        chosen.store.get_version(certificate_id, version)
    except CertificateNotFoundError as exc:
        raise Failure(f"{exc}; nothing was pushed (see certpush certificates list)") from exc


def refuse_unknown(chosen: Backend, certificate_id: str) -> None:
    """Records of an id that has none: refused (exit 3) unless the inventory knows the id."""
    if not chosen.store.list_versions(certificate_id):
        raise Failure(
            f"certificate {certificate_id} is not in the inventory and has no push records; "
            "see certpush certificates list"
        )
