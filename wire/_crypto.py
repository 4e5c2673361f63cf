"""The SK payload with real cryptography: AES-CBC-128 (RFC 3602) for
confidentiality and HMAC-SHA2-256-128 (RFC 4868) for integrity, laid out as
RFC 7296 3.14 says, through the ``cryptography`` package.

Keys are not negotiated here: they are derived from a secret with HKDF-SHA-256
(RFC 5869), so that the same secret always gives the same SPIs, keys and bytes.
The IV, like the COOKIE2 values and nonces of ``_codec``, is a MAC of the
message under a per-IKE_SA secret: unpredictable to anyone without the secret,
as RFC 7296 3.14 asks of an IV, and reproducible for whoever has it.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import struct
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ._errors import IN_SK, WireError
from ._payloads import Buf, Encrypted

BLOCK = 16  # AES block, and the IV length
ICV = 16  # HMAC-SHA2-256 truncated to 128 bits
ENCR_NAME = "AES-CBC-128 [RFC3602]"
INTEG_NAME = "HMAC_SHA2_256_128 [RFC4868]"
SALT = b"ipsecmm wire 1"


@dataclass(frozen=True)
class IkeKeys:
    """One IKE_SA's SPIs and keys (RFC 7296 2.14: SK_e and SK_a of each direction).
    ``secret`` seeds IVs, nonces and cookies; a peer never sends it."""

    spi_i: bytes
    spi_r: bytes
    sk_ei: bytes
    sk_er: bytes
    sk_ai: bytes
    sk_ar: bytes
    secret: bytes

    @classmethod
    def derive(cls, secret: bytes, label: str) -> IkeKeys:
        okm = HKDF(algorithm=hashes.SHA256(), length=8 + 8 + 16 + 16 + 32 + 32 + 32, salt=SALT,
                   info=label.encode()).derive(secret)
        cut = [0, 8, 16, 32, 48, 80, 112, 144]
        parts = [okm[a:b] for a, b in itertools.pairwise(cut)]
        # An SPI of zero means "none yet" (RFC 7296 3.1): never derive one.
        parts[0] = parts[0] if any(parts[0]) else b"\x00" * 7 + b"\x01"
        parts[1] = parts[1] if any(parts[1]) else b"\x00" * 7 + b"\x01"
        return cls(*parts)

    def row(self) -> str:
        """This IKE_SA as a row of Wireshark's ``ikev2_decryption_table``."""
        return (f'{self.spi_i.hex()},{self.spi_r.hex()},{self.sk_ei.hex()},{self.sk_er.hex()},"{ENCR_NAME}",'
                f'{self.sk_ai.hex()},{self.sk_ar.hex()},"{INTEG_NAME}"')

    def to_json(self) -> dict[str, str]:
        return {k: getattr(self, k).hex() for k in ("spi_i", "spi_r", "sk_ei", "sk_er", "sk_ai", "sk_ar", "secret")}

    @classmethod
    def from_json(cls, d: Any) -> IkeKeys:
        return cls(*(bytes.fromhex(d[k]) for k in ("spi_i", "spi_r", "sk_ei", "sk_er", "sk_ai", "sk_ar", "secret")))

    @classmethod
    def from_row(cls, row: str) -> IkeKeys:
        """Read a Wireshark ``ikev2_decryption_table`` row (AES-CBC-128 and
        HMAC_SHA2_256_128 only: the algorithms this codec implements)."""
        cells = [c.strip().strip('"') for c in row.strip().split(",")]
        if len(cells) != 8 or cells[4] != ENCR_NAME or cells[7] != INTEG_NAME:
            raise WireError(None, "ikev2_decryption_table row",
                            f"expected SPIi,SPIr,SK_ei,SK_er,\"{ENCR_NAME}\",SK_ai,SK_ar,\"{INTEG_NAME}\"")
        try:
            spi_i, spi_r, ei, er, _, ai, ar, _ = (bytes.fromhex(c) if k not in (4, 7) else b"" for k, c in enumerate(cells))
        except ValueError:
            raise WireError(None, "ikev2_decryption_table row", "a key is not hex") from None
        return cls(spi_i, spi_r, ei, er, ai, ar, b"")

    def mac(self, label: bytes, *parts: bytes) -> bytes:
        """A value only the holder of ``secret`` can compute (IVs, cookies, nonces)."""
        h = hmac.new(self.secret, label, hashlib.sha256)
        for p in parts:
            h.update(struct.pack("!I", len(p)) + p)
        return h.digest()


def seal(keys: IkeKeys, from_initiator: bool, header: bytes, inner_first: int, plaintext: bytes) -> bytes:
    """The whole message: ``header`` (28 octets; its Length is filled in here),
    then one SK payload holding ``plaintext``, whose first payload is of type
    ``inner_first``."""
    ek, ak = (keys.sk_ei, keys.sk_ai) if from_initiator else (keys.sk_er, keys.sk_ar)
    pad = (-(len(plaintext) + 1)) % BLOCK
    padded = plaintext + bytes(pad) + bytes([pad])
    iv = keys.mac(b"iv", header[:24], plaintext)[:BLOCK]
    enc = Cipher(algorithms.AES(ek), modes.CBC(iv)).encryptor()
    ct = enc.update(padded) + enc.finalize()
    total = len(header) + 4 + BLOCK + len(ct) + ICV
    head = header[:24] + struct.pack("!I", total)
    sk_head = struct.pack("!BBH", inner_first, 0, 4 + BLOCK + len(ct) + ICV)
    signed = head + sk_head + iv + ct
    return signed + hmac.new(ak, signed, hashlib.sha256).digest()[:ICV]


def open_sk(data: bytes, sk: Encrypted, keys: IkeKeys, from_initiator: bool) -> tuple[Encrypted, bytes]:
    """Check the ICV of the SK payload ``sk`` of message ``data`` and decrypt
    it: the payload with its IV and ICV split out, and the plaintext without
    padding.  ``data`` must end with the SK payload (``parse_chain`` checked)."""
    buf = Buf(data)
    body_at = sk.offset + 4
    body = data[body_at:]  # read from the message, so an opened payload can be opened again
    if len(body) < BLOCK + BLOCK + ICV:
        raise buf.err(body_at, "SK payload", f"{len(body)} octets; an IV, one block and an ICV need {BLOCK * 2 + ICV}")
    if (len(body) - BLOCK - ICV) % BLOCK:
        raise buf.err(body_at + BLOCK, "SK.Encrypted IKE Payloads",
                      f"{len(body) - BLOCK - ICV} octets is not a whole number of {BLOCK}-octet blocks")
    ek, ak = (keys.sk_ei, keys.sk_ai) if from_initiator else (keys.sk_er, keys.sk_ar)
    iv, ct, icv = body[:BLOCK], body[BLOCK:-ICV], body[-ICV:]
    want = hmac.new(ak, data[:-ICV], hashlib.sha256).digest()[:ICV]
    if not hmac.compare_digest(want, icv):
        side = "initiator's" if from_initiator else "responder's"
        raise buf.err(len(data) - ICV, "SK.Integrity Checksum Data",
                      f"does not match under the {side} SK_a (wrong keys, or the message was altered)")
    dec = Cipher(algorithms.AES(ek), modes.CBC(iv)).decryptor()
    padded = dec.update(ct) + dec.finalize()
    pad = padded[-1]
    if pad + 1 > len(padded):
        raise WireError(len(padded) - 1, "SK.Pad Length", f"{pad} is more than the {len(padded) - 1} octets before it", IN_SK)
    opened = Encrypted(sk.type, sk.offset, sk.critical, sk.inner_first, iv, ct, icv)
    return opened, padded[: len(padded) - 1 - pad]


def nat_hash(spi_i: bytes, spi_r: bytes, ip: bytes, port: int) -> bytes:
    """NAT_DETECTION_*_IP data: SHA-1 of the SPIs, an address and a port (RFC 7296 2.23)."""
    return hashlib.sha1(spi_i + spi_r + ip + struct.pack("!H", port)).digest()


__all__ = ["ENCR_NAME", "INTEG_NAME", "IkeKeys", "nat_hash", "open_sk", "seal"]
