#!/usr/bin/env bash
# The real host layout (issues 9 and 15). In a private mount namespace, a
# fresh tmpfs covers every path the shipped etc/fanguard.conf guards
# (realhost_ns.sh); the shipped policy is installed as
# /usr/lib/fanguard/fanguard.conf, with one rule an image would add for its
# policy installer (a service), and fanguardd runs with no --config, i.e.
# the default search (plus /etc/fanguard drop-ins). The test has a cgroup
# namespace of its own, where it plays systemd's unit cgroups (with the
# invocation id systemd sets) and an attacker's (without). Then, against
# the real paths and with real tools:
#   A. the shipped policy: status (text and JSON), visudo -c and sshd -t
#      read, systemd-tmpfiles in its unit at boot is allowed where its work
#      is, with a login uid it is not, crontab is denied (no rule), unlisted
#      bash, tee, cp, sed -i and python3 are denied in every subtree (the
#      inputs that steer a writer included) and leave nothing behind;
#      drop-ins written into conf.d by the installer service;
#   S. what steers a writer (issue 15): a planted tmpfiles.d snippet run by
#      systemd-tmpfiles outside its unit, in a cgroup made by hand, and in
#      its real unit, never reaches sudoers.d or /etc/fanguard; python3 in
#      a self-made cloud-evil.service, in a hand-made cloud-init.service and
#      in a transient unit without a unit file is denied, in cloud-init's
#      real unit it writes its drop-ins; /etc/fanguard is enforced in audit
#      mode, a drop-in naming it is refused at load, an optional subtree
#      may be missing and is guarded when it appears;
#   B. those drop-ins loaded at start: crontab allowed; 3,000 concurrent
#      readers of a guarded file, of an enforce subtree and of an audit
#      subtree, with no read refused or logged;
#   R. reload: a drop-in written by the installer and `fanguard reload`,
#      a broken drop-in refused with the old policy kept, SIGHUP;
#   E. the daemon's own log file inside a guarded subtree.
# Every daemon has a watchdog and is killed by pid; every probe runs under
# timeout: a hang is a failure, reported as such, and the daemon that hung
# is killed and replaced so that the next check is judged on its own.

. "$(dirname "$0")/realhost_outer.sh"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/realhost_ns.sh"
trap 'rh_safe_cleanup; rh_cgroups_cleanup; cleanup' EXIT

CONF=             # no --config: the default search
SOCK=/run/fanguard/status.sock
DAEMON_TIMEOUT=300 # per daemon; each phase takes about a minute on an idle host, phase A with its 34 subtrees two
FLOOD=$FG_BUILD/tests/fg_flood
READERS=3000
CONFD=/etc/fanguard/conf.d

for tool in visudo sshd crontab systemd-tmpfiles python3 /usr/bin/python3 findmnt tee sed unshare "$FLOOD"; do
	command -v "$tool" >/dev/null || die "missing $tool (README's set-up command installs it)"
done
echo "# test loginuid $(cat /proc/self/loginuid), PID 1 is $(cat /proc/1/comm)"

rh_layout
# The only local change to the shipped policy: a log file the test can read
# (outside every subtree). The mode stays the shipped enforce.
seed /etc/fanguard/fanguard.conf 0644 "# test_realhost: the log where the test reads it
[fanguard]
log = file:$LOG"
echo evil >"$T/evil"

# fgcli ARGS...: the CLI, bounded.
fgcli() { timeout -k 2 10 "$FANGUARD" "$@"; }
# as_auid AUID|unset CMD...: CMD with that login uid. Root may set it even
# when its own is set (no AUDIT_FEATURE_LOGINUID_IMMUTABLE), so a service's
# unset login uid is had whether or not the test runs in a login session.
# A script, not a function, so that timeout and refuse can run it.
AS_AUID=$T/as-auid
cat >"$AS_AUID" <<'EOS'
#!/bin/bash
a=$1; shift
[ "$a" = unset ] && a=4294967295
echo "$a" > /proc/self/loginuid && exec "$@"
EOS
chmod 0755 "$AS_AUID"
as_auid() { timeout -k 2 10 "$AS_AUID" "$@"; }
# IN_CG CGROUP CMD...: CMD in that cgroup (a script, for timeout and refuse).
IN_CG=$T/in-cgroup
cat >"$IN_CG" <<'EOS'
#!/bin/bash
cg=$1; shift
echo $$ > "$cg/cgroup.procs" && exec "$@"
EOS
chmod 0755 "$IN_CG"
# as_unit CGROUP CMD...: CMD as a service runs: in the unit's cgroup, with
# no login uid.
as_unit() { local cg=$1; shift; timeout -k 2 10 "$AS_AUID" unset "$IN_CG" "$cg" "$@"; }
# The units systemd would start (their cgroups with an invocation id), and
# the cgroups an attacker makes by hand: see realhost_ns.sh.
TMPFILES_UNIT=$(rh_unit_cgroup systemd-tmpfiles-setup.service systemd)
INSTALL_UNIT=$(rh_unit_cgroup fg-realhost-install.service systemd)
CLOUD_UNIT=$(rh_unit_cgroup cloud-init.service systemd)
# tmpfiles_write PATH LINE...: systemd-tmpfiles at boot, in its unit,
# creates PATH holding the lines (a line of the image's tmpfiles.d).
tmpfiles_line() {
	local path=$1; shift
	printf 'f %s 0644 root root - %s\n' "$path" "$(printf '%s\\n' "$@")" >"$T/tmpfiles.conf"
}
tmpfiles_write() {
	tmpfiles_line "$@"
	as_unit "$TMPFILES_UNIT" systemd-tmpfiles --create "$T/tmpfiles.conf"
}
# install_dropin PATH LINE...: the image's policy installer (a service the
# image's rule names) writes PATH.
install_dropin() {
	local path=$1; shift
	printf '%s\n' "$@" | as_unit "$INSTALL_UNIT" tee "$path" >/dev/null
}
# status_json EXPR [ARGS...]: EXPR over the saved status (d), ARGS in sys.argv[2:].
status_json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$T/st.json" "${@:2}"; }
# daemon_answers: alive, and its status socket answers within 5 s.
daemon_answers() {
	local rc
	kill -0 "$DPID" 2>/dev/null || return 1
	timeout -k 1 5 "$FANGUARD" status --socket "$SOCK" >/dev/null 2>&1
	rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 1 ]
}
# restart_if_hung AFTER: a daemon that stopped answering is shown (state,
# where each thread waits), killed by pid and replaced.
restart_if_hung() {
	daemon_answers && return 0
	echo "# fanguardd $DPID no longer answers after $1:" \
		"$(grep State: "/proc/$DPID/status" 2>/dev/null | tr -s '\t ' ' ')," \
		"threads waiting in: $(for t in /proc/"$DPID"/task/*; do printf '%s ' "$(cat "$t/wchan")"; done 2>/dev/null)"
	kill_daemon
	echo "# killed; a fresh fanguardd takes over"
	start_daemon
	rh_check_marks
}

# ---- A. the shipped policy ------------------------------------------------
echo "# A. the shipped policy, default search (at ${SECONDS} s)"
start_daemon
rh_check_marks

fgcli status >"$T/st.txt" 2>&1
rc=$?
eq "fanguard status (no flags) exits 0: enforcing" "$rc" 0
check "status text says ENFORCING" grep -q ': ENFORCING$' "$T/st.txt"
missing=
for p in "${GUARDED_DIRS[@]}" "${GUARDED_FILES[@]}"; do
	grep -qxF "  $p" "$T/st.txt" || missing+=" $p"
done
eq "status text lists every guarded path" "${missing:-none missing}" "none missing"
fgcli status --json >"$T/st.json" 2>"$T/st.err"
rc=$?
eq "fanguard status --json exits 0" "$rc" 0
eq "status --json: enforcing, mode enforce, policy read from the default places" \
	"$(status_json 'd["status"], d["daemon"]["mode"], d["config"]["files"][:2]')" \
	"enforcing enforce ['/usr/lib/fanguard/fanguard.conf', '/etc/fanguard/fanguard.conf']"
eq "status --json: every guarded path is a subtree that exists, enforced, marked" \
	"$(status_json "[p for p in sys.argv[2:] if not any(s['path'] == p and s['exists'] and s['state'] == 'guarded' and s['mode'] == 'enforce' and s['marks'] > 0 for s in d['subtrees'])]" \
		"${GUARDED_DIRS[@]}" "${GUARDED_FILES[@]}" 2>&1)" "[]"

# Deployment twins (issue 16), from the shipped defaults on the fake sysroot.
ST=$RH_DEPLOY/57a9ed.1/etc/sudoers.d
eq "status: the booted deployment without twins, the staged one with" \
	"$(status_json "sorted((x['id'], x['booted'], x['twins'] > 0) for x in d['deployments'])")" \
	"[('57a9ed.1', False, True), ('b00t.0', True, False)]"
refuse "the staged deployment's sudoers.d: an unlisted writer is denied" "$ST/zzz" \
	bash -c "echo evil > '$ST/zzz'"
logged "its line names the deployment" 1 file.path="$ST/zzz" fanguard.decision=deny \
	fanguard.deployment.id=57a9ed.1 fanguard.deployment.stateroot=fedora fanguard.deployment.booted=False
refuse "the booted deployment's sudoers.d by its /sysroot path" "$RH_DEPLOY/b00t.0/etc/sudoers.d/zzz" \
	bash -c "echo evil > '$RH_DEPLOY/b00t.0/etc/sudoers.d/zzz'"
eq "one deny line for it (the booted deployment is the running etc)" \
	"$(count_log event.action=open-write file.path="~/b00t.0/etc/sudoers.d/zzz")" 1
mkdir -p "$RH_DEPLOY/n3w.0/etc/sudoers.d"
wait_log 1 event.action=deployments-changed message="~1 found" >/dev/null
refuse "a deployment made while running is guarded" "$RH_DEPLOY/n3w.0/etc/sudoers.d/zzz" \
	bash -c "echo evil > '$RH_DEPLOY/n3w.0/etc/sudoers.d/zzz'"
rm -rf "$RH_DEPLOY/n3w.0"
logged "a removed deployment is logged gone" 1 event.action=deployments-changed message="~1 gone"
fgcli status --json >"$T/st.json" 2>"$T/st.err"
eq "and drops out of status" "$(status_json "sorted(x['id'] for x in d['deployments'])")" \
	"['57a9ed.1', 'b00t.0']"

# Real readers of the real paths: read-only opens are answered at once.
timeout -k 2 10 visudo -c >"$T/visudo.out" 2>&1
rc=$?
eq "visudo -c reads /etc/sudoers.d and passes ($(tail -n 3 "$T/visudo.out" | tr '\n' ' '))" "$rc" 0
check "visudo parsed the drop-in" grep -q '^/etc/sudoers.d/90-fg-realhost: parsed OK$' "$T/visudo.out"
timeout -k 2 10 sshd -t >"$T/sshd.out" 2>&1
rc=$?
eq "sshd -t reads /etc/ssh/sshd_config.d and passes ($(head -c 200 "$T/sshd.out"))" "$rc" 0
check "sshd read the hardening drop-in (sshd -T: passwordauthentication no)" \
	bash -c "timeout -k 2 10 sshd -T 2>&1 | grep -qx 'passwordauthentication no'"
sleep 0.5 # the logger is asynchronous
eq "visudo and sshd: no deny line" \
	"$(count_log fanguard.decision=deny process.name=visudo)$(count_log fanguard.decision=deny process.name=sshd)" 00

# systemd-tmpfiles at boot, in systemd-tmpfiles-setup.service: the shipped
# rule allows it where its work is (the user-cron spool).
tmpfiles_write /var/spool/cron/fg-tmpfiles 'made at boot' >"$T/tf.out" 2>&1
rc=$?
eq "systemd-tmpfiles in its unit creates /var/spool/cron/fg-tmpfiles ($(head -c 200 "$T/tf.out"))" "$rc" 0
same_content "its content landed" /var/spool/cron/fg-tmpfiles 'made at boot'
logged "allowed by the shipped [writer systemd-tmpfiles], in its unit, auid unset" 1 \
	fanguard.decision=allow fanguard.rule=systemd-tmpfiles file.path=/var/spool/cron/fg-tmpfiles \
	user.audit.id=unset process.executable=/usr/bin/systemd-tmpfiles \
	fanguard.cgroup=/system.slice/systemd-tmpfiles-setup.service
printf 'f /etc/cron.d/fg-tmpfiles-auid 0644 root root - x\n' >"$T/tf-auid.conf"
before=$(listing /etc/cron.d)
refuse "systemd-tmpfiles run from a login session (auid 1000) is denied" /etc/cron.d/fg-tmpfiles-auid \
	"$AS_AUID" 1000 systemd-tmpfiles --create "$T/tf-auid.conf"
unchanged "its denied create left nothing" /etc/cron.d "$before"

# crontab: the shipped policy has no rule for it, so it is denied.
before=$(listing /var/spool/cron/crontabs)
refuse "crontab - (no rule in the shipped policy) is denied" "~/var/spool/cron/crontabs/" \
	bash -c "echo '17 5 * * * /bin/true' | crontab -"
unchanged "crontab left nothing in /var/spool/cron/crontabs" /var/spool/cron/crontabs "$before"

# Unlisted writers against every guarded directory and file.
denied_writers_dir() {
	local p=$1 before
	before=$(listing "$p")
	refuse "bash echo >> $p/fg-seed.txt" "$p/fg-seed.txt" bash -c "echo evil >> '$p/fg-seed.txt'"
	refuse "tee $p/fg-tee" "$p/fg-tee" tee "$p/fg-tee" </dev/null
	refuse "cp into $p" "$p/fg-cp" cp "$T/evil" "$p/fg-cp"
	refuse "sed -i $p/fg-seed.txt (its temp file)" "~$p/sed" sed -i s/seed/evil/ "$p/fg-seed.txt"
	refuse "python3 open(w) $p/fg-py" "$p/fg-py" \
		python3 -c 'import sys; open(sys.argv[1], "w").write("evil")' "$p/fg-py"
	same_content "$p/fg-seed.txt unchanged" "$p/fg-seed.txt" seed
	unchanged "nothing left behind in $p" "$p" "$before"
}
denied_writers_file() {
	local f=$1 before content rc
	before=$(listing "${f%/*}")
	content=$(cat "$f")
	refuse "bash echo >> $f" "$f" bash -c "echo evil >> '$f'"
	refuse "tee $f" "$f" tee "$f" </dev/null
	refuse "cp over $f" "$f" cp "$T/evil" "$f"
	refuse "python3 open(w) $f" "$f" python3 -c 'import sys; open(sys.argv[1], "w").write("evil")' "$f"
	same_content "$f unchanged" "$f" "$content"
	unchanged "nothing left behind next to $f" "${f%/*}" "$before"
	# sed -i writes its temp file next to the file, outside a single-file
	# subtree, and renames it over the file: no open of the file to deny.
	# SECURITY.md: such a rename is detected and reported, not prevented.
	timeout -k 2 10 sed -i s/reject/insecureAcceptAnything/ "$f" 2>"$T/sed.err"
	rc=$?
	case $rc in
	# sed has usually exited by the time the rename is read, so the
	# line names the file but may carry no identity (never a made-up one).
	0) logged "sed -i over $f: not an open of it, reported as rename-in" 1 \
		event.action=rename-in file.path="$f" ;;
	124 | 137) fail "sed -i over $f: no answer within 10 s" ;;
	*) check "sed -i over $f refused with EPERM" grep -q "Operation not permitted" "$T/sed.err" ;;
	esac
}
for p in "${GUARDED_DIRS[@]}"; do denied_writers_dir "$p"; done
for f in "${GUARDED_FILES[@]}"; do denied_writers_file "$f"; done

# The route into /etc/fanguard: the image's rule for its policy installer.
install_dropin "$CONFD/40-crontab.conf" '[writer crontab]' 'exe = /usr/bin/crontab' \
	'subtrees = user-cron' 2>"$T/inst.err"
rc=$?
eq "the installer service writes the crontab drop-in into $CONFD ($(head -c 200 "$T/inst.err"))" "$rc" 0
install_dropin "$CONFD/20-storm.conf" '[subtree storm-enforce]' 'path = /etc/fg-storm/enforce.d' \
	'mode = enforce' '[subtree storm-audit]' 'path = /etc/fg-storm/audit.d' 'mode = audit' \
	2>"$T/inst.err"
rc=$?
eq "the installer service writes the storm drop-in into $CONFD" "$rc" 0
logged "both allowed by the image's installer rule, in its unit" 2 fanguard.decision=allow \
	fanguard.rule=realhost-installer file.path="~$CONFD/" \
	fanguard.cgroup=/system.slice/fg-realhost-install.service
check "the daemon still answers after phase A" daemon_answers

# ---- S. what steers an allowed writer, and fanguard's own policy -------------
echo "# S. steering the shipped writers (at ${SECONDS} s)"
# attack DESC PATH REASON KIND CMD...: refused (refuse), and the deny line
# for PATH carries fanguard.reason=REASON and event.kind=KIND (alert: an
# attempt on fanguard's own policy, or from a forged unit cgroup).
attack() {
	local d=$1 path=$2 reason=$3 kind=$4; shift 4
	refuse "$d" "$path" "$@"
	logged "  ... fanguard.reason $reason, event.kind $kind" 1 fanguard.decision=deny \
		file.path="$path" fanguard.reason="$reason" event.kind="$kind"
}
# unit_as NAME systemd|hand: /system.slice/NAME made anew, as the system
# manager makes a unit's cgroup, or by hand. Prints its path.
unit_as() {
	rmdir "$CGROOT/system.slice/$1" 2>/dev/null
	rh_unit_cgroup "$1" "$([ "$2" = systemd ] && echo systemd)"
}
# The planted snippet (rh_seed) has a line for sudoers.d and one that
# writes a bash writer rule into conf.d; --prefix picks each, as the real
# config directories are read (/etc/tmpfiles.d, /run/tmpfiles.d, ...).
before_s=$(listing /etc/sudoers.d) before_c=$(listing "$CONFD")
for f in /etc/sudoers.d/zz-planted "$CONFD/99-planted.conf"; do
	k=event
	[[ $f == "$CONFD"/* ]] && k=alert
	attack "a planted tmpfiles.d line, systemd-tmpfiles outside any unit -> $f" "$f" no-rule "$k" \
		"$AS_AUID" unset systemd-tmpfiles --create --prefix="$f"
	attack "  ... in its own unit, as at boot: not where its work is" "$f" no-rule "$k" \
		"$AS_AUID" unset "$IN_CG" "$TMPFILES_UNIT" systemd-tmpfiles --create --prefix="$f"
	cg=$(unit_as systemd-tmpfiles-setup.service hand)
	attack "  ... in a systemd-tmpfiles-setup.service made by hand" "$f" no-rule alert \
		"$AS_AUID" unset "$IN_CG" "$cg" systemd-tmpfiles --create --prefix="$f"
	TMPFILES_UNIT=$(unit_as systemd-tmpfiles-setup.service systemd)
done
unchanged "nothing planted in /etc/sudoers.d" /etc/sudoers.d "$before_s"
unchanged "nothing planted in $CONFD" "$CONFD" "$before_c"
# Where its rule does allow it, the unit's name on a cgroup made by hand is
# refused as such.
tmpfiles_line /var/spool/cron/fg-forged 'not at boot'
cg=$(unit_as systemd-tmpfiles-setup.service hand)
attack "systemd-tmpfiles in a hand-made systemd-tmpfiles-setup.service -> user-cron" \
	/var/spool/cron/fg-forged cgroup-unverified alert \
	"$AS_AUID" unset "$IN_CG" "$cg" systemd-tmpfiles --create "$T/tmpfiles.conf"
TMPFILES_UNIT=$(unit_as systemd-tmpfiles-setup.service systemd)
# The snippet directories themselves are guarded: planting is denied.
for d in /etc/tmpfiles.d /run/tmpfiles.d /usr/local/lib/tmpfiles.d /var/usrlocal/lib/tmpfiles.d; do
	refuse "bash plants a snippet in $d" "$d/zz-evil.conf" \
		bash -c "echo 'f /etc/sudoers.d/zz-evil - - - - x' > '$d/zz-evil.conf'"
done

# cloud-init: python3 in cloud-init's units, and in the attacker's.
PY_WRITE='import sys; open(sys.argv[1], "w").write("# fg-realhost\n")'
# py_in CGROUP FILE: /usr/bin/python3 writes FILE, as a service in CGROUP.
py_in=$T/py-in
printf '#!/bin/bash\ncg=$1; shift\nexec %q unset %q "$cg" /usr/bin/python3 -c %q "$@"\n' \
	"$AS_AUID" "$IN_CG" "$PY_WRITE" >"$py_in"
chmod 0755 "$py_in"
attack "python3 in a self-made cloud-evil.service (no rule names it) -> sudoers.d" \
	/etc/sudoers.d/zz-py no-rule event "$py_in" "$(unit_as cloud-evil.service hand)" /etc/sudoers.d/zz-py
attack "  ... with an invocation id forged onto it too" /etc/sudoers.d/zz-py no-rule event \
	"$py_in" "$(unit_as cloud-evil.service systemd)" /etc/sudoers.d/zz-py
attack "python3 in cloud-init-local.service made by hand (its unit file is there)" \
	/etc/sudoers.d/zz-py cgroup-unverified alert \
	"$py_in" "$(unit_as cloud-init-local.service hand)" /etc/sudoers.d/zz-py
attack "python3 in a transient cloud-final.service (systemd-run --unit: no unit file)" \
	/etc/sudoers.d/zz-py cgroup-unverified alert \
	"$py_in" "$(unit_as cloud-final.service systemd)" /etc/sudoers.d/zz-py
for f in /etc/sudoers.d/90-cloud-init-users /etc/ssh/sshd_config.d/50-cloud-init.conf; do
	as_unit "$CLOUD_UNIT" /usr/bin/python3 -c "$PY_WRITE" "$f" 2>"$T/py.err"
	rc=$?
	eq "cloud-init (python3 in its real cloud-init.service) writes $f ($(head -c 200 "$T/py.err"))" "$rc" 0
	logged "  ... allowed by the shipped [writer cloud-init]" 1 fanguard.decision=allow \
		fanguard.rule=cloud-init file.path="$f" fanguard.cgroup=/system.slice/cloud-init.service
done
attack "  ... but not into fanguard's own policy" "$CONFD/98-cloud.conf" no-rule alert \
	"$py_in" "$CLOUD_UNIT" "$CONFD/98-cloud.conf"
attack "  ... nor where its work is not (cron.d)" /etc/cron.d/zz-cloud no-rule event \
	"$py_in" "$CLOUD_UNIT" /etc/cron.d/zz-cloud
# The installer's rule is the image's; its unit must be real too.
cg=$(unit_as fg-realhost-install.service hand)
attack "tee in a hand-made fg-realhost-install.service -> $CONFD" "$CONFD/97-tee.conf" \
	cgroup-unverified alert "$AS_AUID" unset "$IN_CG" "$cg" tee "$CONFD/97-tee.conf" </dev/null
INSTALL_UNIT=$(unit_as fg-realhost-install.service systemd)
check "the daemon still answers after phase S" daemon_answers
stop_daemon

# fanguard's own policy in audit mode: still enforced, and an alert.
start_daemon --mode audit
before=$(listing "$CONFD")
timeout -k 2 10 bash -c "echo '# audit' >> /etc/sudoers.d/fg-seed.txt"
rc=$?
eq "audit mode: bash appends to /etc/sudoers.d/fg-seed.txt (would-deny)" "$rc" 0
logged "  ... logged as would-deny" 1 fanguard.decision=would-deny file.path=/etc/sudoers.d/fg-seed.txt
attack "audit mode: bash writes a drop-in all the same -> denied" "$CONFD/96-audit.conf" no-rule \
	alert bash -c "printf '[writer a]\nexe = /usr/bin/bash\n' > '$CONFD/96-audit.conf'"
unchanged "  ... and leaves nothing in $CONFD" "$CONFD" "$before"
stop_daemon
seed /etc/sudoers.d/fg-seed.txt 0644 seed

# A drop-in that would open fanguard's own subtree to a writer is refused at
# load, naming its file and line.
install_dropin "$CONFD/80-opens-config.conf" '[writer opener]' 'exe = /usr/bin/bash' \
	'subtrees = sudoers fanguard-config'
timeout -k 2 20 "$FANGUARDD" --foreground >"$T/refused.out" 2>&1
rc=$?
eq "fanguardd refuses to start with it (exit 78)" "$rc" 78
check "  ... and says why ($(head -c 300 "$T/refused.out"))" grep -q \
	"^$CONFD/80-opens-config.conf:3: writer 'opener' names subtree 'fanguard-config', fanguard's own policy: only the image's files" \
	"$T/refused.out"
rm -f "$CONFD/80-opens-config.conf"

# An optional subtree may be missing (its tool is not installed) without
# degrading, and is guarded as soon as it appears.
umount /etc/cloud && rmdir /etc/cloud || die "remove /etc/cloud"
start_daemon
fgcli status --json >"$T/st.json"
# (the storm drop-in's audit subtree makes it "audit", not "enforcing";
# the staged deployment's twins share the names and say "deployment")
eq "status with /etc/cloud absent: not degraded, the subtree absent" \
	"$(status_json '[d["status"]] + [s["state"] for s in d["subtrees"] if s["name"] == "cloud-config" and "deployment" not in s]')" \
	"['audit', 'absent']"
mkdir /etc/cloud
if wait_log 1 event.action=subtree-appeared file.path=/etc/cloud; then
	pass "mkdir /etc/cloud: subtree-appeared logged"
	mkdir /etc/cloud/cloud.cfg.d
	sleep 0.5 # its marks follow the new directory
	refuse "  ... and a cloud.cfg.d drop-in is denied" /etc/cloud/cloud.cfg.d/99-evil.cfg \
		bash -c "echo 'bootcmd: [id]' > /etc/cloud/cloud.cfg.d/99-evil.cfg"
else
	fail "mkdir /etc/cloud: subtree-appeared logged within 5 s"
fi
check "the daemon still answers" daemon_answers
stop_daemon

# ---- B. the drop-ins, loaded at start ---------------------------------------
echo "# B. drop-ins in $CONFD loaded at start (at ${SECONDS} s)"
start_daemon
rh_check_marks
fgcli status --json >"$T/st.json"
eq "status --json: the drop-ins' subtrees and rule are in" \
	"$(status_json '[s["mode"] for s in d["subtrees"] if s["name"].startswith("storm-") and "deployment" not in s], "crontab" in [r["name"] for r in d["rules"]]')" \
	"['enforce', 'audit'] True"

timeout -k 2 10 bash -c "echo '17 5 * * * /bin/true # fg-realhost' | crontab -" 2>"$T/crontab.err"
rc=$?
eq "crontab - allowed by the drop-in rule ($(head -c 200 "$T/crontab.err"))" "$rc" 0
check "it wrote /var/spool/cron/crontabs/root" \
	timeout -k 1 5 grep -qx '17 5 \* \* \* /bin/true # fg-realhost' /var/spool/cron/crontabs/root
check "crontab -l shows the new line" bash -c "timeout -k 1 5 crontab -l | grep -qx '17 5 \* \* \* /bin/true # fg-realhost'"
logged "allow logged for crontab's write" 1 fanguard.decision=allow fanguard.rule=crontab \
	file.path="~/var/spool/cron/crontabs/"

# storm DESC FILE DECISION...: READERS threads open FILE read-only at once;
# every open must succeed, none be refused, none be logged as DECISION.
storm() {
	local d=$1 f=$2 rc out; shift 2
	timeout -k 5 60 "$FLOOD" 0 "$READERS" "$f" >"$T/storm.out" 2>"$T/storm.err"
	rc=$?
	out=$(cat "$T/storm.out")
	echo "# $d: $out ($(sort "$T/storm.err" | uniq -c | tr -s ' \n' '  '))"
	eq "$d: all $READERS readers answered and opened (exit $rc)" "$rc $out" \
		"0 writes_ok=0 writes_eperm=0 reads_ok=$READERS other=0"
	eq "$d: reads refused with EPERM" "$(grep -c 'Operation not permitted' "$T/storm.err")" 0
	sleep 1 # the logger is asynchronous
	for dec in "$@"; do
		eq "$d: reads logged as $dec" "$(count_log fanguard.decision="$dec" file.path="$f")" 0
	done
	$LOGQ "$LOG" file.path="$f" --print | head -2 | cut -c1-1200
}
storm "storm on /etc/sudoers.d/90-fg-realhost" /etc/sudoers.d/90-fg-realhost deny would-deny
storm "storm on an enforce subtree" /etc/fg-storm/enforce.d/shared deny would-deny
storm "storm on an audit subtree" /etc/fg-storm/audit.d/shared deny would-deny
check "the daemon still answers after the storms" daemon_answers
stop_daemon
# The audit subtree would make every later status "audit": it goes.
rm -f "$CONFD/20-storm.conf"

# ---- R. reload ----------------------------------------------------------------
echo "# R. reload with drop-ins (at ${SECONDS} s)"
start_daemon
rh_check_marks
refuse "before the reload, tee into /etc/sudoers.d is denied" /etc/sudoers.d/50-test-tee \
	tee /etc/sudoers.d/50-test-tee </dev/null
install_dropin "$CONFD/50-test.conf" '[writer test-tee]' 'exe = /usr/bin/tee' 'subtrees = sudoers'
rc=$?
eq "the installer writes $CONFD/50-test.conf" "$rc" 0
fgcli status --json >"$T/st.json"
gen=$(status_json 'd["config"]["generation"]')
out=$(fgcli reload 2>&1)
rc=$?
eq "fanguard reload (no flags) answers within 10 s and takes the drop-in" "$rc $out" \
	"0 reloaded generation $((gen + 1))"
if [ "$rc" = 0 ]; then
	check "the new rule applies: tee writes /etc/sudoers.d/50-test-tee" \
		bash -c "echo '# test-tee' | timeout -k 2 10 tee /etc/sudoers.d/50-test-tee >/dev/null"
	logged "allowed by rule test-tee" 1 fanguard.decision=allow fanguard.rule=test-tee
	check "status still answers after the reload" daemon_answers
else
	fail "the new rule applies after the reload (not reached: the reload did not answer)"
fi
restart_if_hung "fanguard reload"

install_dropin "$CONFD/60-broken.conf" '[writer broken]' 'exe = /usr/bin/true' 'auid = not-a-number'
rc=$?
eq "the installer writes a broken $CONFD/60-broken.conf" "$rc" 0
fgcli status --json >"$T/st.json"
gen=$(status_json 'd["config"]["generation"]')
fgcli reload >"$T/reload.out" 2>"$T/reload.err"
rc=$?
eq "fanguard reload of a broken drop-in is refused (exit 1) within 10 s" "$rc" 1
check "the refusal names the file and line ($(head -c 200 "$T/reload.err"))" \
	grep -q "reload refused: $CONFD/60-broken.conf:3:" "$T/reload.err"
if [ "$rc" = 1 ]; then
	fgcli status --json >"$T/st.json"
	rc=$?
	eq "status still answers (exit 0) and keeps generation $gen" "$rc $(status_json 'd["config"]["generation"]')" "0 $gen"
	check "old policy kept: tee (allowed by it) still writes" \
		bash -c "echo '# still' | timeout -k 2 10 tee /etc/sudoers.d/50-test-tee >/dev/null"
	refuse "old policy kept: bash (denied by it) still denied" /etc/sudoers.d/fg-seed.txt \
		bash -c "echo evil >> /etc/sudoers.d/fg-seed.txt"
else
	fail "old policy kept after a refused reload (not reached: the reload did not answer)"
fi
rm -f "$CONFD/60-broken.conf"
check "the broken drop-in is removed (an unlink is no open)" test ! -e "$CONFD/60-broken.conf"
restart_if_hung "a refused reload"

refuse "before SIGHUP, cp into /etc/cron.d is denied" /etc/cron.d/fg-test-cp cp "$T/evil" /etc/cron.d/fg-test-cp
install_dropin "$CONFD/70-hup.conf" '[writer test-cp]' 'exe = /usr/bin/cp' 'subtrees = cron'
rc=$?
eq "the installer writes $CONFD/70-hup.conf" "$rc" 0
fgcli status --json >"$T/st.json"
gen=$(status_json 'd["config"]["generation"]')
kill -HUP "$DPID"
if wait_log 1 event.action=reload event.outcome=success message="~generation $((gen + 1))"; then
	pass "SIGHUP reload logged as generation $((gen + 1))"
	check "the SIGHUP'd rule applies: cp writes /etc/cron.d/fg-test-cp" \
		timeout -k 2 10 cp "$T/evil" /etc/cron.d/fg-test-cp
	check "status still answers after SIGHUP" daemon_answers
else
	fail "SIGHUP reload logged as generation $((gen + 1)) within 5 s"
	fail "the SIGHUP'd rule applies (not reached: the reload did not finish)"
fi
restart_if_hung "SIGHUP"
stop_daemon

# ---- E. the daemon's own log inside a guarded subtree ------------------------------
for inlog in /etc/fanguard/fanguard.log /var/spool/cron/fanguard.log; do
	echo "# E. log = file:$inlog (at ${SECONDS} s)"
	seed /etc/fanguard/fanguard.conf 0644 "[fanguard]
log = file:$inlog"
	LOG=$inlog
	if launch_daemon; then
		pass "fanguardd starts with its log in a guarded subtree ($inlog)"
		rh_check_marks
		eq "status (no flags) answers: enforcing" "$(fgcli status >/dev/null 2>&1; echo $?)" 0
		same_content "a guarded read still works" /etc/sudoers.d/fg-seed.txt seed
		refuse "a write is still denied, and logged into $inlog" /etc/sudoers.d/fg-seed.txt \
			bash -c "echo evil >> /etc/sudoers.d/fg-seed.txt"
		check "the daemon still answers" daemon_answers
		stop_daemon
	else
		fail "fanguardd starts with its log in a guarded subtree ($inlog)"
	fi
done

finish
