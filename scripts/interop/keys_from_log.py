"""Wireshark's ikev2_decryption_table row of a charon run, from its debug log.

Debian 12's strongSwan 5.9.8 has no save-keys plugin, but charon logs the IKE
keys it derives at level ``ike 4`` ("Sk_ei secret => 16 bytes @ ..." and hex
dump lines of the same thread).  The SPIs come from ``swanctl --list-sas``
("<spi>_i* <spi>_r").  Adapted from the shared interop/strongswan/keys_from_log.py
(the ESP rows left out: ``ipsecmm trace`` reads IKE only).

    python3 keys_from_log.py CHARON_LOG LIST_SAS_OUTPUT     # prints the row of the first IKE_SA
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

HDR = re.compile(r"^\S+ (\d+)\[(\w+)\] (.*?) => (\d+) bytes @ 0x[0-9a-f]+\s*$")
DUMP = re.compile(r"^\S+ (\d+)\[(\w+)\]\s+(\d+): ((?:[0-9A-F]{2} ?)+)")


def dumps(lines: list[str]) -> list[tuple[str, bytes]]:
    """(label, bytes) of every hex dump of the log, in order; a dump's lines
    are those of its thread that follow its header."""
    out: list[tuple[str, bytes]] = []
    open_dumps: dict[str, tuple[str, int, list[str]]] = {}
    for ln in lines:
        m = HDR.match(ln)
        if m:
            label, size = m.group(3), int(m.group(4))
            if size == 0:
                out.append((label, b""))
            else:
                open_dumps[m.group(1)] = (label, size, [])
            continue
        m = DUMP.match(ln)
        if m and m.group(1) in open_dumps:
            label, size, hexes = open_dumps[m.group(1)]
            hexes.extend(m.group(4).split())
            if len(hexes) >= size:
                out.append((label, bytes.fromhex("".join(hexes[:size]))))
                del open_dumps[m.group(1)]
    return out


def main() -> int:
    log, sas = Path(sys.argv[1]), Path(sys.argv[2])
    keys: list[dict[str, str]] = []
    cur: dict[str, str] = {}
    for label, data in dumps(log.read_text(errors="replace").splitlines()):
        m = re.match(r"Sk_(d|ai|ar|ei|er|pi|pr) secret$", label)
        if m:
            cur[m.group(1)] = data.hex()
            if m.group(1) == "pr":
                keys.append(cur)
                cur = {}
    spis = re.findall(r"([0-9a-f]{16})_i\*? ([0-9a-f]{16})_r", sas.read_text())
    if not keys or not spis:
        print(f"no IKE keys ({len(keys)}) or SPIs ({len(spis)}) found", file=sys.stderr)
        return 1
    k, (spi_i, spi_r) = keys[0], spis[0]  # one IKE_SA per run: the first derived is the one listed
    print(f'{spi_i},{spi_r},{k["ei"]},{k["er"]},"AES-CBC-128 [RFC3602]",{k["ai"]},{k["ar"]},"HMAC_SHA2_256_128 [RFC4868]"')
    return 0


if __name__ == "__main__":
    sys.exit(main())
