# Installing Debian packages for scripts/setup.sh (POSIX sh, sourced).
#
# apt_install PACKAGE... installs the packages with apt-get, as root (or
# through sudo).  While another apt-get or dpkg holds the package lock (an
# unattended upgrade, a second setup), it waits for it, up to
# SETUP_APT_WAIT seconds (default 300) in steps of SETUP_APT_POLL (default 5),
# saying so once.  It returns non-zero when the packages cannot be installed,
# after printing apt-get's own output, so the caller can stop: a setup that
# goes on without a required package only fails later, and less clearly.
#
# tests/test_setup.py sources this file with a fake apt-get on PATH.

APT_WAIT=${SETUP_APT_WAIT:-300}
APT_POLL=${SETUP_APT_POLL:-5}
APT_OUTPUT=

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        APT_OUTPUT="not root, and sudo is not installed"
        return 1
    fi
}

# apt_run ARG...: one apt-get command, run again while the lock is held.
# Its output is kept in APT_OUTPUT, shown only when the caller gives up.
apt_run() {
    waited=0
    told=0
    while :; do
        if APT_OUTPUT=$(as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$APT_POLL" "$@" 2>&1); then
            return 0
        fi
        case "$APT_OUTPUT" in
            *"Could not get lock"* | *"Unable to acquire the dpkg frontend lock"* | *"Unable to lock"* | *"is another process using it"*)
                if [ "$waited" -ge "$APT_WAIT" ]; then
                    return 1
                fi
                if [ "$told" = 0 ]; then
                    echo "setup: another apt-get or dpkg holds the package lock; waiting up to ${APT_WAIT}s for it" >&2
                    told=1
                fi
                sleep "$APT_POLL"
                waited=$((waited + (APT_POLL > 0 ? APT_POLL : 1)))  # a poll of 0 still ends
                ;;
            *) return 1 ;;
        esac
    done
}

# apt_install PACKAGE...: install, refreshing the package lists once if the
# first try fails (a fresh machine has none).
apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "setup: cannot install $*: apt-get not found; install it with your package manager" >&2
        return 1
    fi
    if apt_run install -y -q "$@"; then
        return 0
    fi
    if apt_run update -q && apt_run install -y -q "$@"; then
        return 0
    fi
    echo "setup: apt-get could not install $*; its output:" >&2
    printf '%s\n' "$APT_OUTPUT" | sed 's/^/    /' >&2
    return 1
}
