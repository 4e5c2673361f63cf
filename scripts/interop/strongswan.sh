#!/bin/bash
# `make interop`: two strongSwan 5.9.8 charon daemons (Debian 12) doing MOBIKE in
# two network namespaces, one capture per case, and its Wireshark key table.
# Adapted from the project's shared interop/strongswan/run.sh (same topology,
# same clean-up rules); README.md next to this file says what each case does.
#
#   scripts/interop/strongswan.sh CASE OUTDIR
#     CASE: addrdel  (the shared run: a new address is announced, the active one
#                     is deleted, the node moves to link B)
#           linkdown (the same, but link A goes down instead of losing its address)
#           v6       (every IPv4 address of the node goes: it moves to the
#                     gateway's IPv6 address)
#           paths    (the gateway announces its link addresses too, so the node
#                     has several paths to probe when it loses link A)
#     writes OUTDIR/ss-CASE.pcap and OUTDIR/ss-CASE.ikev2_decryption_table
#
# Needs root.  Idempotent (removes leftovers of an earlier run first), every
# wait bounded, traffic stays in the two namespaces (documentation ranges only).
set -u
for f in /usr/lib/ipsec/charon /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so \
         /usr/sbin/swanctl /usr/bin/tshark /usr/bin/dumpcap; do
  [ -e "$f" ] || { echo "missing $f: apt-get install strongswan-charon strongswan-swanctl" \
                        "libcharon-extra-plugins tshark iproute2" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "needs root (netns, mount)" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
CASE=${1:-addrdel}
OUTDIR=${2:-.}
case "$CASE" in addrdel|linkdown|v6|paths) ;; *) echo "unknown case $CASE (addrdel, linkdown, v6, paths)" >&2; exit 2;; esac
mkdir -p "$OUTDIR"
W=/tmp/ipsecmm-interop           # runtime dir (configs, logs, pid files)
PCAP=$W.pcap
OUT_TXT=$W/decrypted.txt
NS_MN=imn NS_GW=igw
CHARON=/usr/lib/ipsec/charon
T0=$(date +%s)

log() { printf '[%3ds] %s\n' $(( $(date +%s) - T0 )) "$*"; }

# ---------------------------------------------------------------- cleanup
PIDFILES="$W/dumpcap.pid $W/echo.pid $W/mn/charon.pid $W/gw/charon.pid"
ours() {  # is PID one of this scenario's processes? (guards against stale pid
          # files and PID reuse: never signal a process we did not start)
  local p=$1
  [ -n "$p" ] && [ -r "/proc/$p/cmdline" ] || return 1
  { tr '\0' ' ' < "/proc/$p/cmdline"; } 2>/dev/null | grep -qF "$W" && return 0  # dumpcap, echo
  { tr '\0' '\n' < "/proc/$p/environ"; } 2>/dev/null | grep -q "^STRONGSWAN_CONF=$W/" # charon
}
cleanup() {
  local f p i alive
  for f in $PIDFILES; do
    [ -s "$f" ] && p=$(cat "$f") && ours "$p" && kill "$p" 2>/dev/null
  done
  for i in $(seq 1 30); do   # bounded wait, then SIGKILL (still only ours)
    alive=0
    for f in $PIDFILES; do [ -s "$f" ] && ours "$(cat "$f")" && alive=1; done
    [ $alive = 0 ] && break; sleep 0.1
  done
  for f in $PIDFILES; do
    [ -s "$f" ] && p=$(cat "$f") && ours "$p" && kill -9 "$p" 2>/dev/null
    rm -f "$f"
  done
  ip netns del $NS_MN 2>/dev/null
  ip netns del $NS_GW 2>/dev/null
}
cleanup                     # leftovers of an earlier run
trap cleanup EXIT
trap 'exit 130' INT TERM HUP   # make signals run the EXIT trap too
rm -rf "$W" "$PCAP"; mkdir -p "$W"/mn/run "$W"/gw/run

mn() { ip netns exec $NS_MN "$@"; }
gw() { ip netns exec $NS_GW "$@"; }

# ---------------------------------------------------------------- topology
#  ssmn                                   ssgw
#  mn1 192.0.2.10/24      ---- link A ---- gw1 192.0.2.1/24
#  mn2 198.51.100.10/24   ---- link B ---- gw2 198.51.100.1/24
#      2001:db8:2::10/64                       2001:db8:2::1/64
#  lo  203.0.113.10/32 (inner, TS)         d0  203.0.113.1/32 (IKE address)
#                                          lo  203.0.113.129/32 (inner, TS)
log "setting up namespaces"
ip netns add $NS_MN; ip netns add $NS_GW
for ns in $NS_MN $NS_GW; do
  ip netns exec $ns sysctl -qw net.ipv6.conf.default.addr_gen_mode=1 \
                             net.ipv6.conf.all.addr_gen_mode=1
  ip netns exec $ns ip link set lo up
done
ip link add mn1 netns $NS_MN type veth peer name gw1 netns $NS_GW
ip link add mn2 netns $NS_MN type veth peer name gw2 netns $NS_GW
# (no "dummy" link type in this kernel: use a veth pair inside ssgw instead)
gw ip link add d0 type veth peer name d0p
mn ip addr add 192.0.2.10/24 dev mn1
mn ip addr add 198.51.100.10/24 dev mn2
mn ip -6 addr add 2001:db8:2::10/64 dev mn2 nodad
mn ip addr add 203.0.113.10/32 dev lo
gw ip addr add 192.0.2.1/24 dev gw1
gw ip addr add 198.51.100.1/24 dev gw2
gw ip -6 addr add 2001:db8:2::1/64 dev gw2 nodad
gw ip addr add 203.0.113.1/32 dev d0
[ "$CASE" = v6 ] && gw ip -6 addr add 2001:db8:ff::1/128 dev d0 nodad
gw ip addr add 203.0.113.129/32 dev lo
for i in mn1 mn2; do mn ip link set $i up; done
for i in gw1 gw2 d0 d0p; do gw ip link set $i up; done
# MN reaches the gateway's IKE address over link A (preferred) or link B
mn ip route add 203.0.113.1/32 via 192.0.2.1 dev mn1 metric 100
mn ip route add 203.0.113.1/32 via 198.51.100.1 dev mn2 metric 200
if [ "$CASE" = v6 ]; then
  gw sysctl -qw net.ipv6.conf.all.forwarding=1
  mn ip -6 route add 2001:db8:ff::1/128 via 2001:db8:2::1 dev mn2
fi

# ---------------------------------------------------------------- configs
KPLUG=kernel-libipsec
mkconf() {  # $1 = name, $2 = extra charon settings
  cat > "$W/$1/strongswan.conf" <<EOF
charon {
  $2
  # kernel-libipsec (userspace ESP over a TUN device) before kernel-netlink:
  # this kernel has no ESP/AH, kernel-netlink still does addresses/routes
  load = random nonce aes sha1 sha2 hmac gmp kdf pem pkcs1 pubkey x509 $KPLUG kernel-netlink socket-default vici updown
  retransmit_timeout = 1.0
  retransmit_tries = 3
  plugins {
    vici { socket = unix://$W/$1/charon.vici }
  }
  filelog {
    $1 {
      path = $W/$1/charon.log
      time_format = %H:%M:%S
      flush_line = yes
      default = 1
      ike = 4
      chd = 4
      esp = 2
      knl = 2
      net = 1
    }
  }
  syslog {
    daemon { default = -1 }
    auth { default = -1 }
  }
}
EOF
}
mkconf mn ""
if [ "$CASE" = paths ]; then mkconf gw ""; else mkconf gw "interfaces_ignore = gw1, gw2"; fi
GW_ADDRS=203.0.113.1; [ "$CASE" = v6 ] && GW_ADDRS="203.0.113.1, 2001:db8:ff::1"
PSK='0sc3Ryb25nU3dhbi1tb2Jpa2UtZmVhc2liaWxpdHk='
cat > "$W/mn/swanctl.conf" <<EOF
connections {
  mob {
    version = 2
    local_addrs = %any
    remote_addrs = 203.0.113.1
    proposals = aes128-sha256-modp2048
    mobike = yes
    encap = yes
    local { auth = psk
            id = mn@example.org }
    remote { auth = psk
             id = gw.example.org }
    children {
      net {
        local_ts = 203.0.113.10/32
        remote_ts = 203.0.113.128/25
        esp_proposals = aes128-sha256
      }
    }
  }
}
secrets { ike-1 { id-1 = mn@example.org
                  id-2 = gw.example.org
                  secret = $PSK } }
EOF
cat > "$W/gw/swanctl.conf" <<EOF
connections {
  mob {
    version = 2
    local_addrs = $GW_ADDRS
    remote_addrs = %any
    proposals = aes128-sha256-modp2048
    mobike = yes
    encap = yes
    local { auth = psk
            id = gw.example.org }
    remote { auth = psk
             id = mn@example.org }
    children {
      net {
        local_ts = 203.0.113.128/25
        remote_ts = 203.0.113.10/32
        esp_proposals = aes128-sha256
      }
    }
  }
}
secrets { ike-1 { id-1 = mn@example.org
                  id-2 = gw.example.org
                  secret = $PSK } }
EOF

# ---------------------------------------------------------------- capture
log "starting capture in $NS_GW (any)"
# (started with ip netns exec directly, not via the gw() function, so that $!
#  is the PID of dumpcap itself: ip netns exec execs its command)
ip netns exec $NS_GW dumpcap -q -i any -P -w "$PCAP" -f 'udp port 500 or udp port 4500' \
   -a duration:90 > "$W/dumpcap.out" 2>&1 &
echo $! > "$W/dumpcap.pid"
for i in $(seq 1 50); do grep -q 'Capturing\|File:' "$W/dumpcap.out" 2>/dev/null && break; [ -s "$PCAP" ] && break; sleep 0.1; done
sleep 0.5

# ---------------------------------------------------------------- charons
# charon's pid file is compiled in (/var/run/charon.pid): each instance gets
# its own /run via a bind mount inside the mount namespace of `ip netns exec`.
start_charon() {  # $1 = name, $2 = netns
  ip netns exec "$2" env STRONGSWAN_CONF="$W/$1/strongswan.conf" \
    sh -c "mount --bind '$W/$1/run' /run && exec $CHARON" \
    > "$W/$1/charon.stdout" 2>&1 &
  echo $! > "$W/$1/charon.pid"
}
log "starting charon instances"
start_charon gw $NS_GW
start_charon mn $NS_MN
for n in mn gw; do
  for i in $(seq 1 50); do [ -S "$W/$n/charon.vici" ] && break; sleep 0.1; done
  [ -S "$W/$n/charon.vici" ] || { log "charon $n did not start"; cat "$W/$n/charon.stdout" "$W/$n/charon.log"; exit 1; }
done
# swanctl: the command comes first, its options (--uri) after it
printf 'swanctl {\n  load = pem pkcs1 x509 pubkey\n}\n' > "$W/swanctl-strongswan.conf"
sw() { local n=$1 c=$2; shift 2
       STRONGSWAN_CONF="$W/swanctl-strongswan.conf" timeout 20 swanctl "$c" --uri "unix://$W/$n/charon.vici" "$@"; }
sw gw --load-all --noprompt --file "$W/gw/swanctl.conf" > "$W/gw/load.out" 2>&1
sw mn --load-all --noprompt --file "$W/mn/swanctl.conf" > "$W/mn/load.out" 2>&1

# ---------------------------------------------------------------- data plane
# no ping on this machine: a UDP echo 203.0.113.10 -> 203.0.113.129:7777 must
# go through the CHILD_SA (ipsec0 TUN, userspace ESP-in-UDP by libipsec)
cat > "$W/echo.py" <<'EOF'
import socket, sys, time
if sys.argv[1] == 'server':           # bounded: exits after argv[2] seconds
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('203.0.113.129', 7777)); s.settimeout(0.5)
    end = time.time() + float(sys.argv[2])
    while time.time() < end:
        try:
            d, a = s.recvfrom(2048)
        except socket.timeout:
            continue
        s.sendto(b'echo:' + d, a)
else:                                  # client: 3 tries, 1 s each
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('203.0.113.10', 0)); s.settimeout(1)
    ok = 0
    for i in range(3):
        try:
            s.sendto(('%s #%d' % (sys.argv[2], i)).encode(), ('203.0.113.129', 7777))
            s.recvfrom(2048); ok += 1
        except socket.timeout:
            pass
        except OSError as e:               # e.g. no route without a CHILD_SA
            print(e); break
    print('%d/3 echoes came back' % ok)
EOF
ip netns exec $NS_GW timeout 60 python3 "$W/echo.py" server 55 > "$W/echo-server.out" 2>&1 &
echo $! > "$W/echo.pid"
dataplane() { mn timeout 10 python3 "$W/echo.py" client "$1"; }

# ---------------------------------------------------------------- scenario
log "1. initiate from MN (192.0.2.10 -> 203.0.113.1)"
sw mn --initiate --child net --timeout 15 > "$W/mn/initiate.out" 2>&1
log "   initiate rc=$?"
sw mn --list-sas > "$W/sas-1.txt" 2>&1
dataplane "before the address change" > "$W/echo-1.txt" 2>&1; log "   UDP echo through the tunnel: $(cat "$W/echo-1.txt")"

sleep 1
log "2. MN gains an address (198.51.100.11/24 on mn2): address list update"
mn ip addr add 198.51.100.11/24 dev mn2
sleep 3

case "$CASE" in
  linkdown) log "3. link A goes down: MOBIKE path change"; mn ip link set mn1 down;;
  v6) log "3. MN loses every IPv4 address: MOBIKE moves to IPv6"
      mn ip addr del 192.0.2.10/24 dev mn1; mn ip addr del 198.51.100.11/24 dev mn2
      mn ip addr del 198.51.100.10/24 dev mn2;;
  *) log "3. MN loses its active address 192.0.2.10: MOBIKE path change"; mn ip addr del 192.0.2.10/24 dev mn1;;
esac
sleep 5
sw mn --list-sas > "$W/sas-3.txt" 2>&1
dataplane "after the address change" > "$W/echo-3.txt" 2>&1; log "   UDP echo through the tunnel: $(cat "$W/echo-3.txt")"

if [ "$CASE" != v6 ]; then
  log "4. MN drops its extra addresses: expect NO_ADDITIONAL_ADDRESSES"
  mn ip addr del 198.51.100.11/24 dev mn2
  mn ip -6 addr del 2001:db8:2::10/64 dev mn2
  sleep 3
fi
sw mn --list-sas > "$W/sas-4.txt" 2>&1

log "5. terminate IKE_SA"
sw mn --terminate --ike mob --timeout 10 > "$W/mn/terminate.out" 2>&1
sleep 1

# ---------------------------------------------------------------- stop
P=$(cat "$W/dumpcap.pid"); ours "$P" && kill "$P"     # dumpcap flushes the pcap
for i in $(seq 1 30); do ours "$P" || break; sleep 0.1; done
for n in mn gw; do P=$(cat "$W/$n/charon.pid"); ours "$P" && kill "$P"; done
for i in $(seq 1 30); do
  ours "$(cat "$W/mn/charon.pid")" || ours "$(cat "$W/gw/charon.pid")" || break
  sleep 0.1
done

# ---------------------------------------------------------------- decrypt
log "extracting the IKE keys from the charon log (no save-keys plugin in Debian 12)"
python3 "$HERE/keys_from_log.py" "$W/mn/charon.log" "$W/sas-1.txt" > "$W/ikev2_decryption_table" \
  || { log "key extraction failed"; exit 1; }
UAT=$(head -1 "$W/ikev2_decryption_table")
# tshark decrypts the capture independently of ipsecmm's codec: a cross-check of the keys
tshark -r "$PCAP" -o "uat:ikev2_decryption_table:$UAT" -Y isakmp -V > "$OUT_TXT" 2> "$W/tshark.err"
cp "$PCAP" "$OUTDIR/ss-$CASE.pcap"; chmod 644 "$OUTDIR/ss-$CASE.pcap"
cp "$W/ikev2_decryption_table" "$OUTDIR/ss-$CASE.ikev2_decryption_table"
log "done ($CASE): $(grep -c 'Internet Security Association' "$OUT_TXT") IKE messages," \
    "$(grep -c 'Integrity Checksum Data.*\[correct\]' "$OUT_TXT") with a correct ICV (tshark)"
