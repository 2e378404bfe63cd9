#!/usr/bin/env bash
# [transaction] scope (issue 16, item 3). With the default scope
# (deployments) the passthrough holds in deployment roots and not in the
# running /etc subtrees:
#   - a transaction tool named ostree (a program of its own, as an ad-hoc
#     `ostree checkout --union` would be), its child and its grandchild
#     writing the running sudoers.d are denied, and the deny says why;
#   - a writer rule still allows there, with the tool as its ancestor;
#   - the same tool and its grandchild writing a deployment's etc under
#     /sysroot are allowed as a transaction and summarised;
#   - a deleted temp copy of the tool (bootc's re-exec) is recognised by
#     content in the deployment, and denied in the running subtree;
#   - an unlisted writer into the deployment is denied;
#   - fanguard explain says the scope was the reason.
# With scope = all (a restart on the widened config), the tool writes the
# running subtree again as a transaction (today's behaviour).
#
# /sysroot: the deployment roots live under it. This test runs in a mount
# namespace of its own (lib.sh) and mounts a fresh tmpfs there, checked with
# findmnt, before any daemon starts. When the host has no /sysroot, the
# outer shell makes an empty directory as the mount point and removes it
# when the namespace is gone (the one change to the host's filesystem).
if [ -z "${FG_SCOPE_OUTER:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "FAIL - test_scope needs root"; exit 1; }
	made=
	if [ ! -e /sysroot ]; then mkdir /sysroot || { echo "FAIL - mkdir /sysroot"; exit 1; }; made=1; fi
	FG_SCOPE_OUTER=$(readlink /proc/self/ns/mnt) bash "$0" "$@"
	rc=$?
	if [ -n "$made" ]; then rmdir /sysroot || { echo "FAIL - cannot remove the mount point /sysroot"; rc=1; }; fi
	exit "$rc"
fi
. "$(dirname "$0")/lib.sh"

[ "$(readlink /proc/self/ns/mnt)" != "$FG_SCOPE_OUTER" ] || { echo "FAIL - not in a mount namespace of its own"; exit 1; }
mount -n -t tmpfs -o mode=0755 fg-scope /sysroot || { echo "FAIL - cannot mount a tmpfs on /sysroot"; exit 1; }
[ "$(findmnt -n -o SOURCE,FSTYPE --mountpoint /sysroot | tr -s ' ')" = "fg-scope tmpfs" ] &&
	[ "$(findmnt -n -o PROPAGATION --mountpoint /sysroot)" = private ] ||
	{ echo "FAIL - /sysroot is not this test's private tmpfs: $(findmnt --target /sysroot)"; exit 1; }
pass "/sysroot is a fresh private tmpfs in this namespace (findmnt)"

S=$T/etc/sudoers.d
DEP=/sysroot/ostree/deploy/fedora/deploy/0123abcd.0
D=$DEP/etc/sudoers.d
B=$T/bin
mkdir -p "$S" "$D" "$B" "$T/tmp"
chmod 0755 "$T"
# The transaction tool: a program of its own, named as ostree is (a copy of
# bash with bytes after its image).
cp /bin/bash "$B/ostree"
echo fanguard-test-ostree >> "$B/ostree"
cp /bin/bash "$B/cm-sh"
echo seed > "$S/seed"

conf() {
	conf_base
	cat <<EOC

[subtree staged-sudoers]
path = $D
key = priv_esc_persist

[writer cm]
exe = $B/cm-sh
subtrees = sudoers

[transaction]
exe = $B/ostree
EOC
	[ -n "${1:-}" ] && printf 'scope = %s\n' "$1"
}
conf > "$CONF"
start_daemon

# ---- the running subtree: decided by the rules
refuse "the ostree-named tool writing the running sudoers.d is denied" "$S/zzz" \
	"$B/ostree" -c "echo 'evil ALL=(ALL) NOPASSWD: ALL' > '$S/zzz'"
logged "the deny says the scope left it to the rules" 1 fanguard.decision=deny file.path="$S/zzz" \
	fanguard.reason=no-rule message="~outside [transaction] scope"
refuse "and so is its grandchild" "$S/zzz-gc" \
	"$B/ostree" -c "sh -c 'sh -c \"echo x > $S/zzz-gc\"'; exit \$?"
check "nothing of theirs landed" test ! -e "$S/zzz" -a ! -e "$S/zzz-gc"
check "a writer rule still allows there, under the tool" \
	timeout 10 "$B/ostree" -c "'$B/cm-sh' -c 'echo cm > $S/by-rule'; true"
logged "allowed by the rule, not as a transaction" 1 fanguard.decision=allow file.path="$S/by-rule" \
	fanguard.rule=cm

# ---- the deployment root: the transaction's
check "the tool writes the deployment's sudoers.d" \
	timeout 10 "$B/ostree" -c "echo merged > '$D/from-merge'"
check "and so does its grandchild" \
	timeout 10 "$B/ostree" -c "sh -c 'sh -c \"echo gc > $D/from-gc\"'; true"
same_content "the merge's write landed" "$D/from-merge" merged
same_content "the grandchild's write landed" "$D/from-gc" gc
logged "both tagged transaction" 2 fanguard.decision=allow fanguard.reason=transaction \
	file.path="~$D/from-"
logged "each transaction summarised at its root's exit" 2 event.action=transaction-end
refuse "an unlisted writer into the deployment is denied" "$D/by-bash" \
	bash -c "echo x > '$D/by-bash'"

# ---- bootc's re-exec from a deleted temp copy: known by content
COPY=$T/tmp/ostree-reexec.$$
cp "$B/ostree" "$COPY"
check "a deleted temp copy of the tool writes the deployment as a transaction" \
	timeout 10 "$COPY" -c "rm -f '$COPY'; sh -c 'echo copy > $D/from-copy'; true"
same_content "its child's write landed" "$D/from-copy" copy
logged "recognised by content" 1 file.path="$D/from-copy" fanguard.reason=transaction \
	fanguard.identity.method=sha256
cp "$B/ostree" "$COPY"
refuse "the same copy writing the running sudoers.d is denied" "$S/from-copy" \
	timeout 10 "$COPY" -c "rm -f '$COPY'; sh -c 'echo copy > $S/from-copy'; exit \$?"

# ---- explain says why
"$B/ostree" -c 'sleep 20; true' &
TXP=$!
timeout 10 "$FANGUARD" explain --config "$CONF" --path "$S/x" --pid "$TXP" >"$T/explain.txt" 2>&1
check "explain: a deny, outside the scope ($(head -c 300 "$T/explain.txt" | tr '\n' ' '))" \
	grep -q '^decision  deny: no writer rule matches; a transaction exe is involved, but sudoers is outside \[transaction\] scope' "$T/explain.txt"
timeout 10 "$FANGUARD" explain --config "$CONF" --path "$D/x" --pid "$TXP" >"$T/explain.txt" 2>&1
check "explain: the deployment is the transaction's" grep -q '^decision  allow: transaction' "$T/explain.txt"
kill "$TXP" 2>/dev/null
wait "$TXP" 2>/dev/null
timeout 10 "$FANGUARD" check-config "$CONF" >"$T/cc.txt" 2>&1
check "check-config names the scope" grep -qx 'transaction scope: deployments' "$T/cc.txt"

# ---- scope = all: today's passthrough
stop_daemon
conf all > "$CONF"
start_daemon
check "with scope = all, the tool's grandchild writes the running sudoers.d" \
	timeout 10 "$B/ostree" -c "sh -c 'sh -c \"echo tx > $S/all-gc\"'; true"
same_content "its write landed" "$S/all-gc" tx
logged "as a transaction" 1 fanguard.decision=allow fanguard.reason=transaction file.path="$S/all-gc"
check "and the deployment is still the transaction's" \
	timeout 10 "$B/ostree" -c "echo all > '$D/from-all'"
logged "tagged transaction" 1 fanguard.reason=transaction file.path="$D/from-all"

finish
