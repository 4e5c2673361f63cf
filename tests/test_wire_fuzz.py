"""Every message of every vector round-trips through the bytes; arbitrary and
mutated bytes either decode or raise WireError, never anything else."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipsecmm.gen._conformance import load_file
from ipsecmm.gen._wire import to_dict, vector_messages
from ipsecmm.wire import WireError, decode, read_pcap
from ipsecmm.wire._crypto import open_sk, seal
from ipsecmm.wire._payloads import Encrypted
from ipsecmm.wire._pcap import udp_of

from wire_cases import VECTOR_FILES, run_packets, vector_packets, walks

STRONGSWAN = Path(__file__).resolve().parent / "fixtures" / "strongswan" / "ss-mobike.pcap"


@pytest.mark.parametrize("path", VECTOR_FILES, ids=lambda p: p.stem)
def test_every_vector_message_round_trips(path):
    cases = load_file(path)
    for case, (session, pkts) in zip(cases, vector_packets(path), strict=True):
        abstract = [d for _, _, d in vector_messages(case.test, case.setup.role)]
        assert len(abstract) == len(pkts)
        for d, p in zip(abstract, pkts, strict=True):
            back = decode(p.data, session, src=p.message.src, dst=p.message.dst)
            assert back.message == p.message, (case.id, d)
            assert to_dict(back.message) == {k: v for k, v in d.items() if k != "hex"}, case.id
            assert d["hex"] == p.data.hex()  # the vector carries exactly these bytes
            assert back.unmodelled == ()


def test_every_message_of_runs_of_every_profile_round_trips():
    n = 0
    for run in walks():
        session, pkts = run_packets(run)
        for p in pkts:
            assert decode(p.data, session, src=p.message.src, dst=p.message.dst).message == p.message
            n += 1
    assert n > 300


def _samples():
    out = []
    session, pkts = vector_packets(VECTOR_FILES[0])[0]
    out += [(session, p.data) for p in pkts[:6]]
    for run in walks()[:24:4]:
        session, pkts = run_packets(run)
        out += [(session, p.data) for p in pkts[:4]]
    return out


SAMPLES = _samples()
_, _FRAMES = read_pcap(STRONGSWAN.read_bytes())
FOREIGN = [u.ike for u in (udp_of(f.data, 113) for f in _FRAMES) if u is not None and u.ike is not None]


def _total(data, session):
    try:
        decode(data, session, src="192.0.2.1", dst="198.51.100.1")
    except WireError as exc:
        assert str(exc)  # names offset and field


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_arbitrary_bytes(data):
    _total(data, SAMPLES[0][0])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(range(len(SAMPLES + [(None, f) for f in FOREIGN]))), st.lists(
    st.tuples(st.integers(0, 2000), st.integers(0, 255), st.sampled_from(["set", "cut", "insert"])), min_size=1, max_size=4))
def test_mutated_encodings(k, edits):
    session, data = (SAMPLES + [(None, f) for f in FOREIGN])[k]
    b = bytearray(data)
    for pos, value, how in edits:
        pos %= max(1, len(b))
        if how == "set" and b:
            b[pos] = value
        elif how == "cut":
            del b[pos:]
        else:
            b.insert(pos, value)
    _total(bytes(b), session)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(range(len(SAMPLES))), st.integers(0, 1000), st.integers(0, 255), st.booleans())
def test_mutated_plaintext_under_valid_keys(k, pos, value, cut):
    """The harder case: the ICV holds, so the mutated contents reach the payload parsers."""
    session, data = SAMPLES[k]
    d = decode(data, session)
    sk = d.payloads[-1]
    assert isinstance(sk, Encrypted)
    keys = session.ike if d.protected else session.forger
    _, plain = open_sk(data, sk, keys, d.header.from_initiator)
    b = bytearray(plain)
    if b:
        pos %= len(b)
        if cut:
            del b[pos:]
        else:
            b[pos] = value
    first = value if cut and not b else sk.inner_first
    _total(seal(keys, d.header.from_initiator, data[:28], first, bytes(b)), session)
