"""moto's server in a process of its own: ``python -m certpush_emulators.aws.moto_process [PORT]``.

AWS answers the handlers' calls on other machines; in the handlers' own process moto took half of
the interpreter's time (one GIL for moto, the pollers and every concurrent push), so the embedded
stack measured moto rather than certpush, and concurrent pushes queued behind moto's serialiser. In
a process of its own moto runs beside the handlers, on another core, as the cloud does. It also
keeps the embedded stack out of reach of ``moto.mock_aws()`` in the same interpreter.

Protocol with the parent (``EmbeddedStack``): once bound it prints ``listening HOST PORT`` on one
line; it serves until its standard input closes (the parent stopped, or died), then exits. It
applies the embedded stack's patches (``moto_patches.py``) before serving.

With ``--acm-rate-quotas`` (or ``CERTPUSH_ACM_RATE_QUOTAS=1`` in its environment, which the embedded
stack passes on) ACM throttles past its per-region API rate quotas (``AcmRateQuotas``).
With ``--until-terminated`` it ignores its standard input and serves until SIGTERM: ``certpush serve
--simulate`` runs it so, in the background, so that the simulated AWS outlives a restart of the host."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from typing import Any

from certpush_emulators.aws.moto_patches import (
    acm_enforces_its_rate_quotas,
    acm_knows_who_uses_a_certificate,
    acm_refuses_what_acm_refuses,
    cloudfront_refuses_keys_it_cannot_serve,
    dynamodb_projections_convert_only_what_they_project,
    dynamodb_reads_without_the_generic_serialiser,
    dynamodb_scalar_values_cast_at_once,
    dynamodb_tables_sorted_by_key_values,
    serialise_dynamodb_requests,
    transactions_without_table_copies,
)


def _stop_when_parent_goes(server: Any) -> None:
    sys.stdin.buffer.read()  # returns at end of file: the parent closed the pipe or is gone
    server.shutdown()


def main(argv: list[str]) -> int:
    detached = "--until-terminated" in argv
    rate_quotas = "--acm-rate-quotas" in argv or os.environ.get("CERTPUSH_ACM_RATE_QUOTAS") == "1"
    argv = [argument for argument in argv if argument not in ("--until-terminated", "--acm-rate-quotas")]
    port = int(argv[0]) if argv else 0
    # Ctrl-C in `certpush-dev stack up` reaches the whole process group: the parent stops its pollers
    # first, then closes our standard input
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    serialise_dynamodb_requests()
    transactions_without_table_copies()
    dynamodb_reads_without_the_generic_serialiser()
    dynamodb_projections_convert_only_what_they_project()
    dynamodb_scalar_values_cast_at_once()
    dynamodb_tables_sorted_by_key_values()
    acm_refuses_what_acm_refuses()
    cloudfront_refuses_keys_it_cannot_serve()
    acm_knows_who_uses_a_certificate()
    if rate_quotas:
        acm_enforces_its_rate_quotas()
    try:
        server = make_server(
            "127.0.0.1",
            port,
            DomainDispatcherApplication(create_backend_app),
            threaded=True,
            request_handler=MotoRequestHandler,
        )
    except OSError as exc:
        print(f"cannot listen on port {port}: {exc}", file=sys.stderr, flush=True)
        return 1
    host, bound = str(server.server_address[0]), server.server_address[1]
    print(f"listening {host} {bound}", flush=True)
    if detached:
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    else:
        threading.Thread(target=_stop_when_parent_goes, args=(server,), daemon=True).start()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
