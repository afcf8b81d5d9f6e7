"""Finds a private key in captured text, in every form it could take on the way there: the PEM
marker, its base64 body (a PEM dump, JSON-escaped or not, or the DER base64-encoded anew), the PEM
text base64-encoded again (a blob parameter such as ACM's ``PrivateKey`` in a botocore request), and
the DER bytes as Python prints them (``b'0\\x81\\x87...'``) and as hex.

A private key's DER also holds public parts (algorithm identifiers, an EC key's public point, an
RSA modulus) that a certificate carries too, and a certificate may be logged. Pieces of the DER that
overlap the certificate's DER or the public key's are left out, so a hit is always private."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization

KEY_MARKER = "PRIVATE" + " KEY"
_PIECE = 18  # bytes (24 base64 characters): never there by chance, short enough to catch a cut-off copy
_OVERLAP = 6  # bytes in common with public material make a piece public


def _der_of_pem(pem: str) -> bytes:
    body = "".join(line for line in pem.strip().splitlines() if line and not line.startswith("-----"))
    return base64.b64decode(body)


@dataclass
class KeyMaterial:
    private_key_pem: str
    certificate_pem: str | None = None
    needles: dict[str, list[str]] = field(init=False)

    def __post_init__(self) -> None:
        key = serialization.load_pem_private_key(self.private_key_pem.encode(), password=None)
        public = [
            key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        ]
        if self.certificate_pem:
            public.append(x509.load_pem_x509_certificate(self.certificate_pem.encode()).public_bytes(
                serialization.Encoding.DER
            ))  # fmt: skip
        ders = {
            _der_of_pem(self.private_key_pem),
            key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        }
        pieces = [
            der[i : i + _PIECE]
            for der in ders
            for i in range(0, len(der) - _PIECE + 1, _PIECE)  # multiples of 3: base64 stays aligned
        ]
        private = [p for p in pieces if not self._overlaps(p, public)]
        pem_b64 = base64.b64encode(self.private_key_pem.encode()).decode()
        self.needles = {
            "PEM marker": [KEY_MARKER],
            "base64 of the DER (a PEM body)": [base64.b64encode(p).decode() for p in private],
            "the PEM base64-encoded": [pem_b64[i : i + 24] for i in range(24, len(pem_b64) - 24, 24)],
            "DER bytes": [repr(p)[2:-1] for p in private if "'" not in repr(p)[2:-1]],
            "DER hex": [p.hex() for p in private],
        }
        if not private:
            raise ValueError("no private piece in the key's DER: the scan would find nothing")

    @staticmethod
    def _overlaps(piece: bytes, public: list[bytes]) -> bool:
        return any(piece[i : i + _OVERLAP] in blob for blob in public for i in range(len(piece) - _OVERLAP + 1))

    def find(self, text: str) -> list[str]:
        """What of the key ``text`` holds: one line per form found, with the first piece."""
        hits = []
        for form, needles in self.needles.items():
            found = [needle for needle in needles if needle in text]
            if found:
                hits.append(f"{form}: {len(found)} piece(s), e.g. {found[0]!r}")
        return hits
