"""A local, in-process imitation of the Huawei Cloud APIs certpush uses, for tests and demos.

The real paths, at the root of one address (``endpoint_template`` is just ``url``). The service is told
by the ``Host`` header when it names one (``waf.cn-north-4.myhuaweicloud.com``), otherwise by the path;
the region by the project id in the path (each region has its own project, as IAM lists them):

* WAF v1: ``/v1/{project_id}/waf/certificate`` list (``name``, ``host``, ``exp_status``, ``page``/``pagesize``)
  and create; ``/{certificate_id}`` show, update, delete; ``/{certificate_id}/apply-to-hosts``.
* ELB v3: ``/v3/{project_id}/elb/certificates`` list (``id``, ``name``, ``domain``, ``common_name``,
  ``fingerprint``, ``type``... ``limit``/``marker``) and create; ``/{certificate_id}`` show, update, delete;
  ``/v3/{project_id}/elb/listeners`` list, ``/{listener_id}`` show, update (SNI rules).
* IAM v3: ``/v3/projects`` (all projects, or filtered by ``name``...).
* CDN (global): ``/v1.0/cdn/domains`` list; ``/v1.1/cdn/configuration/domains/{domain_name}/configs``
  show and update (the ``https`` configuration).

A query parameter or body field the simulator does not implement is refused (400 ``SIM.NOT_SIMULATED``),
never ignored. Every API request must carry a valid SDK-HMAC-SHA256 signature whose X-Sdk-Date is within
15 minutes (else 401 ``APIGW.0301``). Certificates are parsed with ``cryptography``: expired ones and keys
that do not match are refused like WAF does (``WAF.00011021`` / ``WAF.00011019``) and CDN does
(``CDN.0408`` / ``CDN.0405``); ELB's refusals use ``ELB.8902`` (invalid parameter) - real ELB documents no
specific codes for these, and refuses no expired certificate. Each service refuses a private key that is
not RSA or EC (Ed25519, DSA...), and ELB a certificate over 65,536 or a key over 8,192 characters, as
documented (``KEY_TYPES``, ``ELB_MAX_*``): the same rules as ``certpush/providers/huaweicloud/rules.py``.

Admin calls (no signature), also available as methods:

* ``POST /_sim/faults`` ``{"failure_rate": 0.3, "kinds": ["5xx", "5xx_after", "throttle", "timeout"],
  "latency_ms": 0, "seed": 1}``. ``5xx`` and ``throttle`` answer before doing anything; ``5xx_after``
  does the work then answers 500; ``timeout`` does the work then closes the connection unanswered, so a
  retry has to find what the lost request made.
* ``POST /_sim/services`` ``{"service": "waf", "region": "...", "purchased": false}``
* ``POST /_sim/waf/{region}/hosts`` ``{"hostname": "www.example.com"}`` -> ``{"id": ...}``
* ``POST /_sim/elb/{region}/listeners`` ``{"protocol": "HTTPS"}`` -> ``{"id": ...}``
* ``POST /_sim/cdn/domains`` ``{"domain_name": "www.example.com"}`` -> ``{"id": ...}``
* ``GET /_sim/state`` (no private keys), ``POST /_sim/reset``.

Nothing here is needed in Lambda; it only uses the standard library and ``cryptography``. The modules:
``server`` (HTTP, routing, signature check, faults, admin), ``state`` (the account's state, errors,
certificate parsing), and one per service: ``iam``, ``waf``, ``elb``, ``cdn``. This module is the
public API.
"""

from __future__ import annotations

from certpush_emulators.huaweicloud.server import DEFAULT_CREDENTIALS, FAULT_KINDS, FaultConfig, HuaweiCloudSimulator
from certpush_emulators.huaweicloud.state import DOMAIN_ID, RecordedRequest, SimError, SimResponse

__all__ = [
    "DEFAULT_CREDENTIALS",
    "DOMAIN_ID",
    "FAULT_KINDS",
    "FaultConfig",
    "HuaweiCloudSimulator",
    "RecordedRequest",
    "SimError",
    "SimResponse",
]
