"""IKEv2 on the wire: the model's messages as bytes, and bytes back (sans-IO).

Public API (everything else is private and may change):

* :class:`Message` -- the model's message with names and IP addresses
* :class:`Session`, :class:`ChildSA`, :class:`IkeKeys` -- SPIs and keys of an IKE_SA
* :func:`encode` -- ``Message`` to an IKEv2 message (RFC 7296; RFC 4555 for
  MOBIKE; docs/encoding.md for the draft's extension)
* :func:`decode` -- any IKEv2 message to :class:`Decoded`: header, payloads,
  the abstract message where the model has one, and what it has no counterpart for
* :class:`WireError` -- the only exception either raises
* :func:`datagram`, :func:`pcap`, :func:`read_pcap` -- IP/UDP framing and
  classic pcap files, for captures Wireshark reads
* :data:`NOTIFY_TYPES` -- every notify type of the proposed extension

The codec depends on the model's vocabulary (``Kind``, ``Reason``, ``Peer``)
and nothing else of ipsecmm.
"""

from ._codec import ALL_SAS, ChildSA, Decoded, Header, Message, Session, decode, encode
from ._crypto import ENCR_NAME, INTEG_NAME, IkeKeys
from ._errors import WireError
from ._numbers import EXCHANGES, MM_NOTIFIES, notify_name
from ._pcap import Frame, datagram, pcap, read_pcap

#: Every notify type of the proposed extension (docs/encoding.md): value -> name.
NOTIFY_TYPES = dict(MM_NOTIFIES)

__all__ = [
    "ALL_SAS",
    "ENCR_NAME",
    "EXCHANGES",
    "INTEG_NAME",
    "NOTIFY_TYPES",
    "ChildSA",
    "Decoded",
    "Frame",
    "Header",
    "IkeKeys",
    "Message",
    "Session",
    "WireError",
    "datagram",
    "decode",
    "encode",
    "notify_name",
    "pcap",
    "read_pcap",
]
