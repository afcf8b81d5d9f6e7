"""Encryption at rest for the host: AES-256-GCM (``cryptography``) under the home's key file.

Every secret the host keeps (a certificate version's material, the Huawei Cloud credentials) is
sealed with a fresh 96-bit nonce and the row's own id as associated data, so a ciphertext copied
onto another row does not open. Nothing is ever written in clear."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from certpush.errors import ConfigurationError

KEY_BYTES = 32
NONCE_BYTES = 12


class SealedBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ConfigurationError(f"the home's key must be {KEY_BYTES} bytes, not {len(key)}")
        self._aead = AESGCM(key)

    def seal(self, associated: str, plaintext: bytes) -> tuple[bytes, bytes]:
        """(nonce, ciphertext with its tag)."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce, self._aead.encrypt(nonce, plaintext, associated.encode())

    def open(self, associated: str, nonce: bytes, ciphertext: bytes) -> bytes:
        try:
            return self._aead.decrypt(nonce, ciphertext, associated.encode())
        except InvalidTag as exc:
            raise ConfigurationError(
                f"cannot decrypt {associated}: the home's key file is not the one it was sealed with"
            ) from exc
