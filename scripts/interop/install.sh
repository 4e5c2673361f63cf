# `make interop`, first step: the Debian packages the strongSwan run needs,
# installed with scripts/apt.sh's apt_install when one is missing (POSIX sh).
# kernel-libipsec (userspace ESP, for kernels without ESP) is in
# libcharon-extra-plugins; dumpcap comes with tshark.
set -u
. scripts/apt.sh
need=
[ -x /usr/lib/ipsec/charon ] || need="$need strongswan-charon"
[ -x /usr/sbin/swanctl ] || need="$need strongswan-swanctl"
[ -e /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so ] || need="$need libcharon-extra-plugins"
command -v tshark >/dev/null 2>&1 && command -v dumpcap >/dev/null 2>&1 || need="$need tshark"
command -v ip >/dev/null 2>&1 || need="$need iproute2"
[ -z "$need" ] && exit 0
echo "interop: installing$need with apt-get" >&2
echo "wireshark-common wireshark-common/install-setuid boolean false" | as_root debconf-set-selections 2>/dev/null || true
# shellcheck disable=SC2086
apt_install $need || { echo "interop: could not install$need" >&2; exit 1; }
