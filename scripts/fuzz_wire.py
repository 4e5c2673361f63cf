"""Fuzz the wire codec: at least 100,000 inputs, none may raise anything but WireError.

    .venv/bin/python scripts/fuzz_wire.py [--inputs N] [--seed S]

Inputs, in five families: arbitrary bytes; arbitrary bodies behind a header of
the session's IKE_SA; mutations (set, cut, insert octets) of real encodings,
every message of the shipped vectors and of random runs of every profile;
mutations of their decrypted contents, sealed again with the right keys so
that the ICV holds and the payload parsers see them; and mutations of the
strongSwan capture's IKE messages.  Prints what happened to each family and
exits 1 if any input raised another exception.  Deterministic per seed.
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the captures the tests build: every vector file, runs of every profile

from ipsecmm.wire import IkeKeys, Session, WireError, decode, read_pcap  # noqa: E402
from ipsecmm.wire._crypto import open_sk, seal  # noqa: E402
from ipsecmm.wire._payloads import Encrypted  # noqa: E402
from ipsecmm.wire._pcap import udp_of  # noqa: E402

from wire_cases import VECTOR_FILES, run_packets, vector_packets, walks  # noqa: E402

STRONGSWAN = ROOT / "tests" / "fixtures" / "strongswan"


def corpus() -> list[tuple[Session | None, bytes]]:
    out: list[tuple[Session | None, bytes]] = []
    for path in VECTOR_FILES:
        for session, pkts in vector_packets(path):
            out += [(session, p.data) for p in pkts]
    for run in walks():
        session, pkts = run_packets(run)
        out += [(session, p.data) for p in pkts]
    return out


def strongswan() -> list[tuple[Session | None, bytes]]:
    keys = IkeKeys.from_row((STRONGSWAN / "ikev2_decryption_table").read_text())
    linktype, frames = read_pcap((STRONGSWAN / "ss-mobike.pcap").read_bytes())
    udps = [udp_of(f.data, linktype) for f in frames]
    return [(Session(keys), u.ike) for u in udps if u is not None and u.ike is not None]


def mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 3, 8))):
        how = rng.random()
        pos = rng.randrange(len(b) + 1)
        if how < 0.6 and b:
            at = min(pos, len(b) - 1)
            b[at] = rng.randrange(256) if rng.random() < 0.7 else b[at] ^ (1 << rng.randrange(8))
        elif how < 0.8:
            del b[pos:pos + rng.randrange(1, 40)]
        else:
            b[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 12)))
    return bytes(b)


def reseal(rng: random.Random, session: Session, data: bytes) -> bytes | None:
    """``data`` with its decrypted contents mutated and sealed again under the right keys."""
    d = decode(data, session)
    sk = d.payloads[-1] if d.payloads else None
    if not isinstance(sk, Encrypted) or d.protected is None:
        return None
    keys = session.ike if d.protected else session.forger
    assert keys is not None
    _, plain = open_sk(data, sk, keys, d.header.from_initiator)
    first = sk.inner_first if rng.random() < 0.9 else rng.choice((0, 33, 40, 41, 42, 44, 46, 99, 255))
    head = data[:16] + struct.pack("!B", 46) + data[17:28]
    return seal(keys, d.header.from_initiator, head, first, mutate(rng, plain) if plain else bytes([rng.randrange(256)]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--inputs", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    real = corpus()
    foreign = strongswan()
    session = real[0][0]
    assert session is not None
    fam = ["arbitrary", "header+arbitrary", "mutated", "mutated contents, ICV valid", "strongSwan mutated"]
    counts: dict[str, Counter[str]] = {f: Counter() for f in fam}
    failures: list[str] = []
    started = time.perf_counter()
    for k in range(args.inputs):
        family = fam[k % len(fam)]
        s: Session | None = session
        if family == "arbitrary":
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300)))
        elif family == "header+arbitrary":
            body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300)))
            keys = session.ike if rng.random() < 0.8 else session.forger
            assert keys is not None
            data = keys.spi_i + keys.spi_r + bytes([rng.choice((33, 41, 46, 0, 99)), 0x20, rng.choice((34, 35, 36, 37, 40)),
                                                    rng.choice((0, 8, 0x20, 0x28, 0x10))]) \
                + struct.pack("!II", rng.randrange(8), 28 + len(body)) + body
        elif family == "mutated":
            s, orig = rng.choice(real)
            data = mutate(rng, orig)
        elif family == "mutated contents, ICV valid":
            s, orig = rng.choice(real)
            assert s is not None
            data = reseal(rng, s, orig) or orig
        else:
            s, orig = rng.choice(foreign)
            assert s is not None
            data = (reseal(rng, s, orig) if rng.random() < 0.5 else None) or mutate(rng, orig)
        try:
            d = decode(data, s, src="192.0.2.1", dst="198.51.100.1")
            counts[family]["decoded, abstract message" if d.message is not None else "decoded, structure only"] += 1
        except WireError:
            counts[family]["WireError"] += 1
        except Exception:  # the very thing this script looks for
            counts[family]["OTHER EXCEPTION"] += 1
            if len(failures) < 5:
                failures.append(f"input {k} ({family}) {data.hex()}\n{traceback.format_exc()}")
    seconds = time.perf_counter() - started
    total = sum(sum(c.values()) for c in counts.values())
    other = sum(c["OTHER EXCEPTION"] for c in counts.values())
    print(f"{total:,} inputs in {seconds:.1f}s ({total / seconds:,.0f}/s), seed {args.seed}; "
          f"corpus: {len(real)} real encodings, {len(foreign)} strongSwan messages")
    for f in fam:
        print(f"  {f:<28} " + ", ".join(f"{n} {c:,}" for n, c in sorted(counts[f].items())))
    print(f"exceptions other than WireError: {other}")
    for fail in failures:
        print(fail, file=sys.stderr)
    return 1 if other else 0


if __name__ == "__main__":
    sys.exit(main())
