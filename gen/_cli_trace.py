"""Command-line verb ``ipsecmm trace``: is a real implementation's capture a run of the model?

Like the other ``_cli_*`` modules, this one imports ``ipsecmm.cli`` only
inside its functions (``ipsecmm.cli`` imports it while collecting verbs).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

DEFAULT_SCENARIO = "strongswan"


def register(sub: Any) -> None:
    from ipsecmm.cli import scenario_arg

    p = sub.add_parser("trace", help="replay a real capture (pcap + Wireshark IKEv2 keys) on the model, message by message")
    p.add_argument("capture", type=Path, metavar="CAPTURE.pcap", help="a pcap of one IKE_SA (RAW, Ethernet or Linux cooked)")
    p.add_argument("--keys", type=Path, required=True, metavar="TABLE",
                   help="its Wireshark ikev2_decryption_table (the first row is the IKE_SA's)")
    p.add_argument("--profile", choices=("ikev2", "mobike", "mm"), default="mobike",
                   help="the profile to replay it on (default mobike)")
    p.add_argument("--scenario", type=scenario_arg, default=DEFAULT_SCENARIO, metavar="F",
                   help=f"the scenario whose addresses the capture uses (file or built-in name; default {DEFAULT_SCENARIO})")
    p.set_defaults(func=cmd_trace)


def cmd_trace(args: argparse.Namespace) -> int:
    from ipsecmm.cli import UsageError, read_scenario

    from ._trace import TraceError, replay

    sc = read_scenario(args.scenario)
    blobs = []
    for path in (args.capture, args.keys):
        try:
            blobs.append(path.read_bytes())
        except OSError as exc:
            raise UsageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        table = blobs[1].decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{args.keys}: not a text file (an ikev2_decryption_table)") from None
    try:
        res = replay(blobs[0], table, sc, args.profile, (str(args.capture), str(args.keys)))
    except TraceError as exc:
        raise UsageError(str(exc)) from None
    print(f"{args.capture} on {args.profile}, scenario {sc.name}:")
    for line in res.lines:
        print(line)
    verdict = "a run of the model" if res.ok else "NOT a run of the model"
    print(f"{res.messages} IKE messages: {res.replayed} replayed, {res.skipped} outside the model; the capture is {verdict}")
    return 0 if res.ok else 1
