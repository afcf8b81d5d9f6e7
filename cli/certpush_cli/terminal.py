"""What every command shares: where output goes (results to stdout, progress and errors to
stderr, so that `--json` output pipes cleanly), how a stack is named, and the one exit-code policy
of every command (``ExitCode``; ``user_errors`` maps every error to one line and one code).

Light on purpose: ``certpush --help`` imports this module, so rich, pydantic, botocore and the
runtime are imported when a command first prints or fails, not before."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from pydantic import ValidationError
    from rich.console import Console


class _Console:
    """A rich Console made on first use (importing rich costs a fifth of the CLI's start)."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def real(self) -> Console:
        """The Console itself (to hand to rich, e.g. a progress bar)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)


# no markup: ids, names and messages print as they are (a pattern like ``[a-z0-9-]`` is not a style)
out: Any = _Console(highlight=False, soft_wrap=True, markup=False)
err: Any = _Console(stderr=True, highlight=False, markup=False, soft_wrap=True)


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

    try:
        yield
    except (typer.Exit, typer.Abort, TyperException):
        raise  # typer.Exit and usage errors: click prints and exits on its own
    except Failure as exc:
        err.print(f"error: {one_line(exc)}")
        raise typer.Exit(exc.code) from exc
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


StackOption = Annotated[
    str, typer.Option("--stack", envvar="CERTPUSH_STACK", help="Name of the certpush stack (CloudFormation).")
]
