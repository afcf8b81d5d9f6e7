"""The Huawei Cloud simulator as a process of its own: ``python -m certpush_emulators.huaweicloud
[--port P] [--access-key AK --secret-key SK]``. Once it listens it prints ``listening URL`` on one
line; it serves until SIGTERM or SIGINT. ``certpush serve --simulate`` runs one per home, in the
background, so the simulated cloud outlives a restart of the host (as a real cloud would)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from certpush_emulators.huaweicloud.simulator import HuaweiCloudSimulator


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m certpush_emulators.huaweicloud")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--access-key")
    parser.add_argument("--secret-key")
    arguments = parser.parse_args(argv)
    credentials = {arguments.access_key: arguments.secret_key} if arguments.access_key else None
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    try:
        simulator = HuaweiCloudSimulator(port=arguments.port, credentials=credentials).start()
    except OSError as exc:
        print(f"cannot listen on port {arguments.port}: {exc}", file=sys.stderr, flush=True)
        return 1
    print(f"listening {simulator.url}", flush=True)
    stopped.wait()
    simulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
