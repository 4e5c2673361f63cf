"""Numbers of the wire: IKEv2's registries (RFC 7296 3.x, RFC 5996 has the
same values), MOBIKE's notify types (RFC 4555 4), and the values this project
proposes for the draft's extension, all from IKEv2's private-use ranges
(RFC 7296 3.10.1: error types 8192-16383, status types 40960-65535).

docs/encoding.md explains every value; ``MM_NOTIFIES`` is its table.
"""

from __future__ import annotations

from ipsecmm.model._vocab import Kind, Reason

# Exchange types (RFC 7296 3.1)
IKE_SA_INIT = 34
IKE_AUTH = 35
CREATE_CHILD_SA = 36
INFORMATIONAL = 37
EXCHANGES = {IKE_SA_INIT: "IKE_SA_INIT", IKE_AUTH: "IKE_AUTH", CREATE_CHILD_SA: "CREATE_CHILD_SA",
             INFORMATIONAL: "INFORMATIONAL"}

# Header flags (RFC 7296 3.1)
FLAG_I = 0x08
FLAG_V = 0x10
FLAG_R = 0x20

# Payload types (RFC 7296 3.2)
NONE = 0
SA = 33
KE = 34
IDI = 35
IDR = 36
CERT = 37
CERTREQ = 38
AUTH = 39
NONCE = 40
NOTIFY = 41
DELETE = 42
VENDOR = 43
TSI = 44
TSR = 45
SK = 46
CP = 47
EAP = 48
GSPM = 49
SKF = 53
PAYLOADS = {SA: "SA", KE: "KE", IDI: "IDi", IDR: "IDr", CERT: "CERT", CERTREQ: "CERTREQ", AUTH: "AUTH",
            NONCE: "Nonce", NOTIFY: "Notify", DELETE: "Delete", VENDOR: "Vendor ID", TSI: "TSi", TSR: "TSr",
            SK: "SK", CP: "CP", EAP: "EAP", GSPM: "GSPM", SKF: "SKF"}

# Protocol IDs (RFC 7296 3.3.1)
PROTO_NONE = 0
PROTO_IKE = 1
PROTO_AH = 2
PROTO_ESP = 3

# Transform types and the one ESP proposal this codec sends (RFC 7296 3.3.2)
T_ENCR, T_PRF, T_INTEG, T_DH, T_ESN = 1, 2, 3, 4, 5
ENCR_AES_CBC = 12
AUTH_HMAC_SHA2_256_128 = 12
ESN_NONE = 0
ATTR_KEY_LENGTH = 14

# Traffic selector types (RFC 7296 3.13.1)
TS_IPV4_ADDR_RANGE = 7
TS_IPV6_ADDR_RANGE = 8

# Notify types of RFC 7296 3.10.1 and RFC 4555 4 that this codec reads or writes
NO_PROPOSAL_CHOSEN = 14
TS_UNACCEPTABLE = 38
UNACCEPTABLE_ADDRESSES = 40
NAT_DETECTION_SOURCE_IP = 16388
NAT_DETECTION_DESTINATION_IP = 16389
USE_TRANSPORT_MODE = 16391
REKEY_SA = 16393
MOBIKE_SUPPORTED = 16396
ADDITIONAL_IP4_ADDRESS = 16397
ADDITIONAL_IP6_ADDRESS = 16398
NO_ADDITIONAL_ADDRESSES = 16399
UPDATE_SA_ADDRESSES = 16400
COOKIE2 = 16401

#: Names of the standard notify types, for reports on what a message holds.
STANDARD_NOTIFIES = {
    1: "UNSUPPORTED_CRITICAL_PAYLOAD", 4: "INVALID_IKE_SPI", 5: "INVALID_MAJOR_VERSION", 7: "INVALID_SYNTAX",
    9: "INVALID_MESSAGE_ID", 11: "INVALID_SPI", 14: "NO_PROPOSAL_CHOSEN", 17: "INVALID_KE_PAYLOAD",
    24: "AUTHENTICATION_FAILED", 34: "SINGLE_PAIR_REQUIRED", 35: "NO_ADDITIONAL_SAS",
    36: "INTERNAL_ADDRESS_FAILURE", 37: "FAILED_CP_REQUIRED", 38: "TS_UNACCEPTABLE", 39: "INVALID_SELECTORS",
    40: "UNACCEPTABLE_ADDRESSES", 41: "UNEXPECTED_NAT_DETECTED", 43: "TEMPORARY_FAILURE", 44: "CHILD_SA_NOT_FOUND",
    16384: "INITIAL_CONTACT", 16385: "SET_WINDOW_SIZE", 16386: "ADDITIONAL_TS_POSSIBLE", 16387: "IPCOMP_SUPPORTED",
    16388: "NAT_DETECTION_SOURCE_IP", 16389: "NAT_DETECTION_DESTINATION_IP", 16390: "COOKIE",
    16391: "USE_TRANSPORT_MODE", 16392: "HTTP_CERT_LOOKUP_SUPPORTED", 16393: "REKEY_SA",
    16394: "ESP_TFC_PADDING_NOT_SUPPORTED", 16395: "NON_FIRST_FRAGMENTS_ALSO", 16396: "MOBIKE_SUPPORTED",
    16397: "ADDITIONAL_IP4_ADDRESS", 16398: "ADDITIONAL_IP6_ADDRESS", 16399: "NO_ADDITIONAL_ADDRESSES",
    16400: "UPDATE_SA_ADDRESSES", 16401: "COOKIE2", 16402: "NO_NATS_ALLOWED", 16403: "AUTH_LIFETIME",
    16404: "MULTIPLE_AUTH_SUPPORTED", 16405: "ANOTHER_AUTH_FOLLOWS", 16406: "REDIRECT_SUPPORTED",
    16407: "REDIRECT", 16408: "REDIRECTED_FROM", 16417: "EAP_ONLY_AUTHENTICATION",
    16418: "CHILDLESS_IKEV2_SUPPORTED", 16420: "IKEV2_MESSAGE_ID_SYNC_SUPPORTED", 16430: "IKEV2_FRAGMENTATION_SUPPORTED",
    16431: "SIGNATURE_HASH_ALGORITHMS",
}

# ---------------------------------------------------------------- the proposed extension (docs/encoding.md)

#: The private-use ranges (RFC 7296 3.10.1).
PRIVATE_ERROR = 8192
PRIVATE_STATUS = 40960
#: Where the extension's values start inside them: clear of the values 3GPP
#: TS 24.302 (8.1.2) takes near the start of both ranges, which Wireshark
#: names after 3GPP (PDN_CONNECTION_REJECTION 8192, REACTIVATION_REQUESTED_CAUSE
#: 40961, ... up to 42095).
MM_ERROR_BASE = 12288
MM_STATUS_BASE = 49152

#: One status type per request kind of the extension; a check-only request
#: has its own type, four above the change it asks about.
MM_ACTION = {
    Kind.UPDATE: MM_STATUS_BASE, Kind.ADD: MM_STATUS_BASE + 1, Kind.REMOVE: MM_STATUS_BASE + 2,
    Kind.SET_ALT: MM_STATUS_BASE + 3, Kind.CHECK_UPDATE: MM_STATUS_BASE + 4, Kind.CHECK_ADD: MM_STATUS_BASE + 5,
    Kind.CHECK_REMOVE: MM_STATUS_BASE + 6, Kind.CHECK_ALT: MM_STATUS_BASE + 7,
}
MM_OLD_ADDRESS = MM_STATUS_BASE + 8
MM_NEW_ADDRESS = MM_STATUS_BASE + 9
MM_ALTERNATE_ADDRESS = MM_STATUS_BASE + 10
#: One error type per refusal reason that names a check (model ``PRECISE_REASONS``).
MM_ERROR = {r: MM_ERROR_BASE + r.value - 1 for r in Reason if 1 <= r.value < 20}

ACTION_KIND = {v: k for k, v in MM_ACTION.items()}
ERROR_REASON = {v: r for r, v in MM_ERROR.items()}


def mm_action_name(kind: Kind) -> str:
    """The name of an action type: the vectors' ``notify`` field says the same."""
    base = {Kind.CHECK_UPDATE: "UPDATE", Kind.CHECK_ADD: "ADD", Kind.CHECK_REMOVE: "REMOVE", Kind.CHECK_ALT: "SET_ALT"}
    return f"MM_{base[kind]}_CHECK" if kind in base else f"MM_{kind.name}"


#: Every notify type of the extension: value -> name.
MM_NOTIFIES: dict[int, str] = {
    **{v: mm_action_name(k) for k, v in MM_ACTION.items()},
    MM_OLD_ADDRESS: "MM_OLD_ADDRESS", MM_NEW_ADDRESS: "MM_NEW_ADDRESS", MM_ALTERNATE_ADDRESS: "MM_ALTERNATE_ADDRESS",
    **{v: f"MM_{r.name}" for r, v in MM_ERROR.items()},
}


def notify_name(t: int) -> str:
    if t in MM_NOTIFIES:
        return MM_NOTIFIES[t]
    if t in STANDARD_NOTIFIES:
        return STANDARD_NOTIFIES[t]
    if PRIVATE_ERROR <= t < 16384:
        return f"private error {t}"
    if t >= PRIVATE_STATUS:
        return f"private status {t}"
    return f"notify {t}"


def payload_name(t: int) -> str:
    return PAYLOADS.get(t, f"payload type {t}")
