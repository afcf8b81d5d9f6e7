"""Private keys in the form Huawei Cloud's services take them.

The certificate manager's push page says WAF, ELB and CDN take PKCS#1 (``BEGIN RSA PRIVATE KEY``) or SEC1
(``BEGIN EC PRIVATE KEY``) keys (https://support.huaweicloud.com/intl/en-us/usermanual-ccm/ccm_01_0141.html),
while ELB's API example shows PKCS#8: the form every page agrees on is sent. cryptography's
``PrivateFormat.TraditionalOpenSSL`` is that form (PKCS#1 for RSA, SEC1 for EC)."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from certpush.errors import PermanentPushError


def traditional_pem(private_key_pem: str) -> str:
    """The key as PKCS#1 (RSA) or SEC1 (EC) PEM. A key of another algorithm has neither form: it goes as
    it is and the service refuses it (the validator rejects such a push first: ``rules.py``). Raises
    PermanentPushError for a key that cannot be read."""
    try:
        # the key was checked when it was imported; RSA's consistency check costs seconds for big keys
        key = load_pem_private_key(private_key_pem.encode("ascii"), password=None, unsafe_skip_rsa_key_validation=True)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise PermanentPushError("INVALID_KEY", "the private key cannot be read as unencrypted PEM") from exc
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        return private_key_pem
    return key.private_bytes(Encoding.PEM, PrivateFormat.TraditionalOpenSSL, NoEncryption()).decode("ascii")
