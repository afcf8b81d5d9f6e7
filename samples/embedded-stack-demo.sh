#!/usr/bin/env bash
# The AWS deployment emulated on this machine (certpush-dev stack: moto as AWS, the Huawei Cloud
# simulator, template.yaml's handlers on in-process pollers): generate a certificate, import it, push it
# to AWS ELB (with a listener), AWS CloudFront (with a distribution), Huawei Cloud WAF and ELB in several
# regions and Huawei Cloud CDN, check every target, print every record. Run by tests/e2e/test_demo.py;
# `make demo` runs certpush on one machine instead (samples/demo.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
state="$work/state"
cleanup() {
  certpush-dev stack down --state-dir "$state" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== starting the embedded stack (moto as AWS, Huawei Cloud simulator, in-process pollers)"
certpush-dev stack up --detach --port 0 --huawei-port 0 --state-dir "$state" --log-file "$work/stack.log"
eval "$(certpush-dev stack env --state-dir "$state")"

echo "== generating a sample certificate for demo.example.com (with its chain) and importing it"
certpush sample-certificate --domain demo.example.com --out "$work/pem" >/dev/null
certpush certificates import --id demo-example-com --no-push \
  --cert "$work/pem/certificate.pem" --chain "$work/pem/certificate.chain.pem" --key "$work/pem/certificate.key.pem"

echo "== an HTTPS listener in us-east-1 to attach the certificate to"
listener=$(certpush-dev stack create-listener --region us-east-1)
echo "$listener"

echo "== a CloudFront distribution for demo.example.com to serve the certificate"
distribution=$(certpush-dev stack create-distribution demo.example.com)
echo "$distribution"

echo "== an accelerated domain in Huawei Cloud CDN (global) for the certificate"
certpush-dev stack create-cdn-domain demo.example.com --state-dir "$state"

echo "== pushing to 5 services: 7 regions, CloudFront and Huawei Cloud CDN (global)"
certpush push demo-example-com \
  --to aws:elb=us-east-1,eu-west-1,ap-southeast-1 \
  --to aws:cloudfront \
  --to huaweicloud:waf=cn-north-4,ap-southeast-1 \
  --to huaweicloud:elb=cn-north-4,ap-southeast-3 \
  --to huaweicloud:cdn \
  --attach "aws:elb=$listener" \
  --attach "aws:cloudfront=$distribution" \
  --wait --timeout 120

echo "== checking every pushed certificate is where its record says"
certpush-dev stack check demo-example-com --state-dir "$state"

echo "== the latest push records"
certpush history demo-example-com
