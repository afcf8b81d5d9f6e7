#!/usr/bin/env bash
# `make demo`: certpush on one machine. `certpush serve --simulate` in a fresh home (simulated Huawei
# Cloud, and AWS when moto is installed), a certificate pushed to Huawei Cloud WAF, ELB and CDN in
# several regions (and AWS ELB), the records and their console links; then the host is stopped and
# started again, and the certificates, records and history are still there.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
export CERTPUSH_HOME="$work/home"
unset CERTPUSH_STACK
serve_pid=""
cleanup() {
  if [ -n "$serve_pid" ] && kill -0 "$serve_pid" 2>/dev/null; then
    kill -TERM "$serve_pid"
    wait "$serve_pid" || true
  fi
  certpush simulators stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

start_host() {
  certpush serve --simulate --port 0 2>>"$work/serve.log" &
  serve_pid=$!
  until [ "$(grep -c 'certpush serve: home' "$work/serve.log" 2>/dev/null)" -ge "$1" ]; do
    if ! kill -0 "$serve_pid" 2>/dev/null; then
      cat "$work/serve.log"
      exit 1
    fi
    sleep 0.2
  done
  grep -E '^(simulated|warning|certpush serve)' "$work/serve.log" | tail -n 3
}

echo "== certpush on this machine: certpush serve --simulate (home $CERTPUSH_HOME)"
start_host 1

echo "== a sample certificate for demo.example.com (with its chain), imported"
certpush sample-certificate --domain demo.example.com --out "$work/pem" >/dev/null
certpush certificates import --id demo-example-com --no-push \
  --cert "$work/pem/certificate.pem" --chain "$work/pem/certificate.chain.pem" --key "$work/pem/certificate.key.pem"

echo "== an accelerated domain in the simulated Huawei Cloud CDN"
certpush simulators add-cdn-domain demo.example.com

targets=(--to huaweicloud:waf=cn-north-4,ap-southeast-1 --to huaweicloud:elb=cn-north-4,ap-southeast-3 --to huaweicloud:cdn)
if certpush simulators status | grep -q '^aws http'; then
  targets+=(--to aws:elb=us-east-1,eu-west-1)
fi
echo "== pushing to $(( ${#targets[@]} / 2 )) services in several regions, with their console links"
certpush push demo-example-com "${targets[@]}" --wait --timeout 120

echo "== the dashboard and records API: $(grep -o 'http://127.0.0.1:[0-9]*/#token=[^ ]*' "$work/serve.log" | tail -n 1)"

echo "== stopping the host (SIGTERM) and starting it again"
kill -TERM "$serve_pid"
wait "$serve_pid"
start_host 2

echo "== after the restart: the certificates, records and history are still there"
certpush certificates list
certpush records demo-example-com
certpush history demo-example-com --limit 3
certpush events --limit 3
