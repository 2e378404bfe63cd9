#!/usr/bin/env bash
# `fanguard policy install` installs the bytes it checked. The drop-in is
# read once: a file that reads differently the second time (a FIFO, or an
# edit racing the install) must not get unchecked bytes into conf.d.
# At the real paths, on copies in this test's private mount namespace:
# /etc and /usr/lib/fanguard are fresh tmpfs mounts here (lib.sh's
# namespace), so the host's files are never written. No daemon runs: the
# install's check is then the only one before the next start.
. "$(dirname "$0")/lib.sh"

S=$T/sudoers.d
eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1 (got '$2', want '$3')"; fi; }
mkdir -p "$S" "$T/in" "$T/stage-etc" "$T/stage-lib"
# copies on tmpfs, moved over the real directories (this namespace only)
mount -n -t tmpfs -o mode=0755 fg-e2e "$T/stage-etc" && cp -a /etc/. "$T/stage-etc/" &&
	mount -n --move "$T/stage-etc" /etc || { echo "FAIL - cannot cover /etc"; exit 1; }
[ -d /usr/lib/fanguard ] || { echo "FAIL - /usr/lib/fanguard is missing (make install made it)"; exit 1; }
mount -n -t tmpfs -o mode=0755 fg-e2e "$T/stage-lib" && mount -n --move "$T/stage-lib" /usr/lib/fanguard ||
	{ echo "FAIL - cannot cover /usr/lib/fanguard"; exit 1; }
trap 'stop_daemon; [ -n "${FEED:-}" ] && kill "$FEED" 2>/dev/null; umount -l /usr/lib/fanguard; umount -l /etc; cleanup' EXIT
[ "$(findmnt -n -o SOURCE --mountpoint /etc)" = fg-e2e ] || { echo "FAIL - /etc is not ours"; exit 1; }
mkdir -p /etc/fanguard/conf.d
conf_base >/usr/lib/fanguard/fanguard.conf

GOOD="[writer ops]
exe = /usr/bin/true
subtrees = sudoers"
# A drop-in may not open fanguard's own policy: the check refuses this.
BAD="[writer evil]
exe = $T/evil
subtrees = fanguard-config"
printf '%s\n' "$BAD" >"$T/bad.conf"
"$FANGUARD" policy --socket "$T/none.sock" install "$T/bad.conf" >"$T/pi.out" 2>&1
eq "a drop-in naming fanguard-config is refused: exit 78" "$?" 78
check "  ... and is not in conf.d" test ! -e /etc/fanguard/conf.d/bad.conf

# The FIFO gives the good text to the first reader and the bad one to the
# second (after a pause: a writer that came back before the first reader
# saw its end would only make that reader read both).
F=$T/in/50-swap.conf
mkfifo "$F"
( printf '%s\n' "$GOOD" >"$F"; sleep 1; printf '%s\n' "$BAD" >"$F" ) &
FEED=$!
timeout -k 2 20 "$FANGUARD" policy --socket "$T/none.sock" install "$F" >"$T/pi.out" 2>&1
rc=$?
kill "$FEED" 2>/dev/null
wait "$FEED" 2>/dev/null
FEED=
got=$(cat /etc/fanguard/conf.d/50-swap.conf 2>/dev/null)
check "the unchecked text is not what was installed ($(tr '\n' ' ' <"$T/pi.out" | head -c 200))" \
	test "$got" != "$BAD"
eq "what was installed is the text that was checked" "$got" "$GOOD"
eq "installed, no daemon to reload: exit 3" "$rc" 3
"$FANGUARD" check-config >"$T/cc.out" 2>&1
rc=$?
eq "the policy in place is valid: the next start would load it ($(head -c 200 "$T/cc.out" | tr '\n' ' '))" "$rc" 0

# A drop-in that cannot be read: nothing to check, nothing written.
timeout -k 2 20 "$FANGUARD" policy --socket "$T/none.sock" install "$T/in/60-missing.conf" >"$T/pi.out" 2>&1
eq "a missing drop-in: exit 78, as a failed check" "$?" 78
check "  ... and nothing in conf.d" test ! -e /etc/fanguard/conf.d/60-missing.conf
finish
