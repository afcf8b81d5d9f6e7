"""What makes two imports the same material, as digests that reveal nothing secret.

The certificate's own fingerprint is in ``CertificateFacts``. Here: the key, identified by the
SHA-256 of the public key it holds (SubjectPublicKeyInfo, DER), so neither the key nor a digest
of it is ever stored; and the chain, by the SHA-256 of its certificates' DER encodings in order,
so that line endings or PEM text around the blocks do not count as a change."""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization


def key_fingerprint(private_key_pem: str) -> str | None:
    """SHA-256 of the key's public half; None when it is not an unencrypted PEM private key."""
    try:
        # only the public half is read: RSA's consistency check (seconds for an 8192-bit key) is not
        # needed for that, and the key was checked when it was read from its file (material_files)
        key = serialization.load_pem_private_key(
            private_key_pem.encode(), password=None, unsafe_skip_rsa_key_validation=True
        )
    except (ValueError, TypeError):
        return None
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(public).hexdigest()


def chain_fingerprint(chain_pem: str) -> str:
    """SHA-256 over the chain certificates' DER in order (the digest of nothing for no chain).
    A chain that does not parse is digested as its stripped text."""
    digest = hashlib.sha256()
    if not chain_pem.strip():
        return digest.hexdigest()
    try:
        chain = x509.load_pem_x509_certificates(chain_pem.encode())
    except ValueError:
        digest.update(chain_pem.strip().encode())
        return digest.hexdigest()
    for certificate in chain:
        digest.update(certificate.public_bytes(serialization.Encoding.DER))
    return digest.hexdigest()
