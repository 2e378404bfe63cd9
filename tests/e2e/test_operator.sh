#!/usr/bin/env bash
# The operator's day (issue 14), at the real paths: the host's layout on
# fresh tmpfs mounts in a private mount namespace (realhost_ns.sh), the
# shipped policy as the image's, fanguardd on the default search. The
# shipped file's commented examples are taken out of etc/fanguard.conf,
# uncommented and filled in:
#   I. the admins rule as an image drop-in (/usr/lib/fanguard/conf.d), the
#      agent rules installed by an admin with `fanguard policy install`
#      (checked joined to the policy first, written atomically into
#      /etc/fanguard/conf.d, the daemon reloaded); a non-admin's install is
#      refused and leaves nothing.
#   T. real tools with 0 false denies: an admin (login uid 1000, in a
#      logind-shaped session scope) with sudo tee, sudoedit, sudo visudo
#      -f, sudo crontab -, crontab - as herself, sudo cp, sudo vim, sudo
#      nano, and sudo ansible-playbook (ansible-core from Debian); and
#      ansible-pull run as ansible-pull.service (its unit cgroup with an
#      invocation id, no login uid), whose cron task runs crontab.
#   D. what a denied operator sees: crontab and visudo -f of a login uid
#      that is no admin are denied and leave nothing; `fanguard explain
#      --last --exe /usr/bin/crontab` names the denial (by --seq and --id
#      too); status keeps it with its explain line; `fanguard explain`
#      asks the daemon (its running policy), --config reads the files.
# Every daemon has a watchdog and is killed by pid; every tool runs under
# timeout.
. "$(dirname "$0")/realhost_outer.sh"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/realhost_ns.sh"
. "$(dirname "$0")/session.sh"
trap 'session_cleanup; rh_safe_cleanup; rh_cgroups_cleanup; cleanup' EXIT

CONF= # no --config: the default search
SOCK=/run/fanguard/status.sock
DAEMON_TIMEOUT=200
CONFD=/etc/fanguard/conf.d
IMAGED=/usr/lib/fanguard/conf.d
ADMIN=1000 # a login uid the admins example names (1000 1001)
ADMIN_USER=$(getent passwd "$ADMIN" | cut -d: -f1)
OTHER=1002 # a login uid no rule names

for tool in sudo sudoedit visudo crontab vim nano ansible-playbook ansible-pull git setpriv python3; do
	command -v "$tool" >/dev/null || die "missing $tool (README's set-up command installs it)"
done
[ -n "$ADMIN_USER" ] || die "no user with uid $ADMIN on this host"

rh_layout
seed /etc/fanguard/fanguard.conf 0644 "# test_operator: the log where the test reads it
[fanguard]
log = file:$LOG"
# The CLI at the path the shipped fanguard-policy rule names: this build's
# binary bound (read-only) over /usr/bin/fanguard in this namespace only,
# on an empty file made for it when the host has none (removed afterwards).
if [ ! -e /usr/bin/fanguard ]; then
	: >/usr/bin/fanguard || die "make a mount point /usr/bin/fanguard"
	echo /usr/bin/fanguard >>"$FG_REALHOST_MADE"
fi
mount -n --bind -o ro "$FANGUARD" /usr/bin/fanguard || die "bind $FANGUARD on /usr/bin/fanguard"
FG=/usr/bin/fanguard
# Sessions as logind makes them, in this namespace's own cgroup2 mount.
SESSION_ROOT=$CGROOT/fg-operator-sessions
IN_SESSION=(bash -c "$SESSION_SCRIPT" _ "$SESSION_ROOT" yes)

# example NAME: the shipped file's commented [writer NAME] block, uncommented.
example() {
	awk -v want="# [writer $1]" '$0 == want { on = 1 } on && !/^# ?/ { exit }
		on && $0 == "#" { exit } on { sub(/^# ?/, ""); print }' "$FG_SRC/etc/fanguard.conf"
}
# as_admin CMD...: CMD run by the admin (uid and login uid $ADMIN) in a
# session of her own; as_other: by a user whose login uid no rule names.
as_admin() { timeout -k 2 60 "${IN_SESSION[@]}" "$ADMIN" setpriv --reuid="$ADMIN" --regid="$ADMIN" --init-groups -- "$@"; }
as_other() { timeout -k 2 20 "${IN_SESSION[@]}" "$OTHER" "$@"; }
# The admin's own processes (the editor sudoedit runs as her) read what the
# test made for them here.
chmod 0755 "$T"
# A shell script as the editor: appends FG_EDIT_TEXT to the file it is given.
EDIT=$T/fg-edit
# (visudo and sudoedit put "--" before the file's name).
printf '#!/bin/sh\n[ "$1" = -- ] && shift\nprintf "%%s\\n" "$FG_EDIT_TEXT" >>"$1"\n' >"$EDIT" && chmod 0755 "$EDIT"
# nano needs a terminal: a pty, the text typed, ^X (--saveonexit writes).
PTY=$T/pty-nano.py
cat >"$PTY" <<'EOP'
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
out, end, sent = b"", time.time() + 20, 0
keys = [sys.argv[1].encode() + b"\r", b"\x18"]
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.5)
    if r:
        try:
            out += os.read(fd, 4096)
        except OSError:
            break
    if sent < len(keys) and b"^X" in out:
        time.sleep(0.3)
        os.write(fd, keys[sent])
        sent += 1
wpid, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
EOP
deny_lines() { count_log fanguard.decision=deny; }

# Sudo as the admin needs no password (her own drop-in, made before the
# daemon runs, as the image or the first boot would).
seed "/etc/sudoers.d/10-$ADMIN_USER" 0440 "$ADMIN_USER ALL=(ALL) NOPASSWD: ALL"
# ---- I. the image's admins, an admin's drop-in -----------------------------
echo "# I. policy: the image's admins, fanguard policy install (at ${SECONDS} s)"
mkdir -p "$IMAGED" || die "mkdir $IMAGED"
{ echo "# the shipped example, filled in"; example admins; } >"$IMAGED/10-admins.conf"
check "the admins example is a people rule for 1000 1001" grep -qx 'auid = 1000 1001' "$IMAGED/10-admins.conf"
start_daemon
rh_check_marks
"$FG" status --json >"$T/st.json" 2>&1
eq "the image's drop-in is read right after the image's file" \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["files"][:2])' "$T/st.json")" \
	"['/usr/lib/fanguard/fanguard.conf', '/usr/lib/fanguard/conf.d/10-admins.conf']"
AGENT=$T/60-ansible-pull.conf
{ echo "# the shipped examples, filled in"; example ansible-pull; echo; example ansible-pull-cron; } >"$AGENT"
grep -q '^cgroup = /system.slice/ansible-pull.service$' "$AGENT" && grep -q '^ancestor = ' "$AGENT"
rc=$?
eq "the agent example has its unit and the cron child's ancestor rule" "$rc" 0
"$FG" check-config "$AGENT" >"$T/cc.out" 2>&1
rc=$?
eq "check-config DROPIN (subtrees = sudoers ...) passes, joined to the policy ($(tail -n 1 "$T/cc.out" | head -c 120))" "$rc" 0
check "  ... and says it was checked as a drop-in" grep -q "is a drop-in" "$T/cc.out"
before=$(listing "$CONFD")
as_other "$FG" policy install "$AGENT" >"$T/pi.out" 2>&1
rc=$?
eq "policy install by login uid $OTHER (no admin) is refused: exit 73" "$rc" 73
unchanged "  ... and leaves nothing in $CONFD" "$CONFD" "$before"
logged "  ... the CLI's write was denied in fanguard-config" 1 fanguard.decision=deny \
	process.executable=/usr/bin/fanguard fanguard.subtree=fanguard-config user.audit.id="$OTHER"
as_admin sudo -n "$FG" policy install "$AGENT" >"$T/pi.out" 2>&1
rc=$?
eq "sudo fanguard policy install by the admin: exit 0 ($(tr '\n' ' ' <"$T/pi.out" | head -c 200))" "$rc" 0
check "  ... reports the new generation" grep -q '^reloaded: generation 2$' "$T/pi.out"
same_content "  ... $CONFD/60-ansible-pull.conf is the drop-in" "$CONFD/60-ansible-pull.conf" "$(cat "$AGENT")"
eq "  ... no temp file left in $CONFD" "$(listing "$CONFD")" "60-ansible-pull.conf"
logged "  ... allowed by fanguard-policy, the admin's uid in the headline" 1 fanguard.decision=allow \
	fanguard.rule=fanguard-policy user.audit.id="$ADMIN" message="~auid $ADMIN: allowed by writer rule fanguard-policy"
"$FG" status --json >"$T/st.json" 2>&1
eq "status: generation 2, the installed drop-in loaded" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["config"]["generation"], d["config"]["files"][-1])' "$T/st.json" 2>&1)" \
	"2 $CONFD/60-ansible-pull.conf"

# ---- T. real tools, 0 false denies ------------------------------------------
echo "# T. the admin's tools and the agent (at ${SECONDS} s)"
denies0=$(deny_lines)
as_admin sudo -n tee /etc/sudoers.d/50-tee >/dev/null <<<'Defaults:root !lecture' 2>"$T/t.err" &&
	as_admin sudo -n chmod 0440 /etc/sudoers.d/50-tee 2>>"$T/t.err"
rc=$?
eq "sudo tee /etc/sudoers.d/50-tee, sudo chmod 0440 ($(head -c 200 "$T/t.err"))" "$rc" 0
as_admin env SUDO_EDITOR="$EDIT" FG_EDIT_TEXT='Defaults:root !fqdn' sudoedit -n /etc/sudoers.d/50-tee 2>"$T/t.err"
rc=$?
eq "sudoedit /etc/sudoers.d/50-tee ($(head -c 200 "$T/t.err"))" "$rc" 0
check "  ... its edit landed" grep -qx 'Defaults:root !fqdn' /etc/sudoers.d/50-tee
as_admin sudo -n env EDITOR="$EDIT" FG_EDIT_TEXT='Defaults:root !syslog' visudo -f /etc/sudoers.d/50-visudo >"$T/t.out" 2>&1
rc=$?
eq "sudo visudo -f /etc/sudoers.d/50-visudo ($(head -c 200 "$T/t.out"))" "$rc" 0
same_content "  ... the file visudo wrote" /etc/sudoers.d/50-visudo 'Defaults:root !syslog'
# visudo -f leaves a new file's mode to the umask (-P would set 0440).
as_admin sudo -n chmod 0440 /etc/sudoers.d/50-visudo
as_admin sudo -n crontab - <<<'17 4 * * * /bin/true' 2>"$T/t.err"
rc=$?
eq "sudo crontab - ($(head -c 200 "$T/t.err"))" "$rc" 0
check "  ... root's crontab" grep -q '/bin/true' /var/spool/cron/crontabs/root
as_admin crontab - <<<'18 4 * * * /bin/true' 2>"$T/t.err"
rc=$?
eq "crontab - as $ADMIN_USER herself ($(head -c 200 "$T/t.err"))" "$rc" 0
printf 'ClientAliveInterval 300\n' >"$T/60-admin.conf" && chmod 0644 "$T/60-admin.conf"
as_admin sudo -n cp "$T/60-admin.conf" /etc/ssh/sshd_config.d/60-admin.conf 2>"$T/t.err"
rc=$?
eq "sudo cp into /etc/ssh/sshd_config.d ($(head -c 200 "$T/t.err"))" "$rc" 0
as_admin sudo -n vim -u NONE -i NONE -es -c 'call append(line("$"), "MaxAuthTries 4")' -c wq /etc/ssh/sshd_config.d/60-admin.conf </dev/null 2>"$T/t.err"
rc=$?
eq "sudo vim (ex mode) edits /etc/ssh/sshd_config.d/60-admin.conf ($(head -c 200 "$T/t.err"))" "$rc" 0
check "  ... its edit landed" grep -qx 'MaxAuthTries 4' /etc/ssh/sshd_config.d/60-admin.conf
as_admin sudo -n env TERM=xterm python3 "$PTY" 'LoginGraceTime 30' nano --saveonexit --ignorercfiles /etc/ssh/sshd_config.d/60-admin.conf >"$T/nano.out" 2>&1
rc=$?
eq "sudo nano (a terminal, text typed, ^X) saves /etc/ssh/sshd_config.d/60-admin.conf" "$rc" 0
check "  ... its edit landed" grep -q 'LoginGraceTime 30' /etc/ssh/sshd_config.d/60-admin.conf
check "sshd -t reads the admin's drop-in" timeout -k 2 10 sshd -t
timeout -k 2 10 visudo -c >"$T/vc.out" 2>&1
rc=$?
eq "visudo -c passes over the admin's sudoers drop-ins ($(grep -v 'parsed OK' "$T/vc.out" | head -c 200))" "$rc" 0

# ansible-core: a playbook the admin runs with sudo, and ansible-pull as a
# service. Its temp and home directories under $T, never the host's.
ANS=$T/ansible
mkdir -p "$ANS/home" "$ANS/tmp" "$ANS/repo"
ans_env=(env HOME="$ANS/home" ANSIBLE_LOCAL_TEMP="$ANS/tmp/local" ANSIBLE_REMOTE_TEMP="$ANS/tmp/remote"
	ANSIBLE_HOME="$ANS/home/.ansible" ANSIBLE_NOCOLOR=1 TMPDIR="$ANS/tmp" ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
	PATH=/usr/sbin:/usr/bin:/sbin:/bin)
play() {
	cat <<EOY
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: a sudoers drop-in, checked by visudo
      ansible.builtin.copy:
        dest: /etc/sudoers.d/70-$1
        content: "Defaults:root !mail_badpass\n"
        mode: "0440"
        validate: /usr/sbin/visudo -cf %s
    - name: an sshd drop-in line
      ansible.builtin.lineinfile:
        path: /etc/ssh/sshd_config.d/70-$1.conf
        line: "MaxSessions 8"
        create: true
        mode: "0644"
    - name: a unit
      ansible.builtin.copy:
        dest: /etc/systemd/system/fg-$1.service
        content: "[Service]\nExecStart=/bin/true\n"
    - name: a cron job (the cron module runs crontab)
      ansible.builtin.cron:
        name: fg-$1
        minute: "7"
        job: /bin/true
        user: root
EOY
}
play admin >"$ANS/admin.yml"
chmod -R a+rX "$ANS"
as_admin sudo -n "${ans_env[@]}" ansible-playbook -i localhost, "$ANS/admin.yml" >"$T/ans.out" 2>&1
rc=$?
eq "sudo ansible-playbook as the admin: copy, lineinfile, cron ($(grep -E 'failed=|FAILED|ERROR' "$T/ans.out" | head -c 300))" "$rc" 0
check "  ... its sudoers drop-in" test -f /etc/sudoers.d/70-admin
check "  ... its cron job, in root's crontab" grep -q '#Ansible: fg-admin' /var/spool/cron/crontabs/root
play agent >"$ANS/repo/local.yml"
git -C "$ANS/repo" init -q && git -C "$ANS/repo" add local.yml &&
	git -C "$ANS/repo" -c user.name=t -c user.email=t@example.invalid commit -qm play || fail "make the agent's repo"
# The agent's unit: a unit file in the image's unit directory (this
# namespace's copy), and its cgroup as systemd makes it.
seed /usr/lib/systemd/system/ansible-pull.service 0644 "[Service]
Type=oneshot
ExecStart=/usr/bin/ansible-pull -U file://$ANS/repo local.yml"
PULL_UNIT=$(rh_unit_cgroup ansible-pull.service systemd)
timeout -k 2 120 "${ans_env[@]}" bash -c 'echo 4294967295 >/proc/self/loginuid && echo $$ >"$0/cgroup.procs" && shift && exec "$@"' \
	"$PULL_UNIT" _ ansible-pull -U "file://$ANS/repo" -d "$ANS/checkout" -i localhost, local.yml >"$T/pull.out" 2>&1
rc=$?
eq "ansible-pull as ansible-pull.service (no login uid) ($(grep -E 'failed=|FAILED|ERROR' "$T/pull.out" | head -c 300))" "$rc" 0
check "  ... its sudoers drop-in" test -f /etc/sudoers.d/70-agent
check "  ... its cron job (crontab under ansible's python)" grep -q '#Ansible: fg-agent' /var/spool/cron/crontabs/root
logged "  ... crontab allowed by ansible-pull-cron" 1 fanguard.decision=allow fanguard.rule=ansible-pull-cron \
	process.executable=/usr/bin/crontab
logged "  ... python allowed by ansible-pull in its unit" 1 fanguard.decision=allow fanguard.rule=ansible-pull \
	fanguard.cgroup=/system.slice/ansible-pull.service
sleep 0.5
eq "0 false denies: no deny line while the admin's tools and the agent ran" "$(deny_lines)" "$denies0"
if [ "$(deny_lines)" != "$denies0" ]; then
	$LOGQ "$LOG" fanguard.decision=deny --print 2>/dev/null | tail -n 5
fi
logged "the admin's writes are logged with her login uid first" 8 fanguard.decision=allow \
	fanguard.rule=admins user.audit.id="$ADMIN" message="~auid $ADMIN: allowed by writer rule admins"

# ---- D. a denial the operator can find --------------------------------------
echo "# D. denials explained (at ${SECONDS} s)"
before=$(listing /var/spool/cron/crontabs)
as_other bash -c "echo '19 4 * * * /bin/true' | crontab -" >/dev/null 2>"$T/t.err"
check "crontab - with login uid $OTHER (no admin) fails: $(head -c 120 "$T/t.err")" grep -q "mkstemp: Operation not permitted" "$T/t.err"
unchanged "  ... and leaves nothing in crontabs" /var/spool/cron/crontabs "$before"
logged "  ... denied" 1 fanguard.decision=deny process.executable=/usr/bin/crontab user.audit.id="$OTHER"
"$FG" explain --last --exe /usr/bin/crontab >"$T/last.txt" 2>&1
rc=$?
eq "fanguard explain --last --exe /usr/bin/crontab: exit 0" "$rc" 0
check "  ... names the crontab file and the writer" grep -q "^writer    /usr/bin/crontab (uid 0, auid $OTHER" "$T/last.txt"
check "  ... and why: the admins rule fails on auid" grep -q "^why       deny (no-rule): .*admins fails on auid" "$T/last.txt"
seq=$(sed -n 's/^id .*(sequence \([0-9]*\))$/\1/p' "$T/last.txt")
id=$(sed -n 's/^id        \([^ ]*\) .*/\1/p' "$T/last.txt")
logged "  ... its id and sequence are the deny line's" 1 fanguard.decision=deny event.sequence="$seq" event.id="$id" \
	process.executable=/usr/bin/crontab
"$FG" explain --seq "$seq" --json >"$T/last.json" 2>&1
eq "explain --seq $seq --json: the same denial" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["id"], d["exe"], d["auid"])' "$T/last.json" 2>&1)" \
	"$id /usr/bin/crontab $OTHER"
"$FG" explain --id "$id" >/dev/null 2>&1
rc=$?
eq "explain --id $id finds it" "$rc" 0
"$FG" explain --id "0000-$seq" >/dev/null 2>"$T/t.err"
rc=$?
eq "explain --id of another daemon run finds nothing: exit 1" "$rc" 1
"$FG" explain --last --exe /usr/bin/no-such-tool >/dev/null 2>&1
rc=$?
eq "explain --last for an exe never denied: exit 1" "$rc" 1
"$FG" status --json >"$T/st.json" 2>&1
eq "status keeps the denial with its explain line" \
	"$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["recent_denials"][0]; print(r["sequence"], r["explain"].startswith("deny (no-rule): /usr/bin/crontab"))' "$T/st.json" 2>&1)" \
	"$seq True"
# visudo -f of a non-admin: its editor's write is denied, and nothing of
# its temp file or the target stays behind (the daemon removes what a
# denied create leaves).
before=$(listing /etc/sudoers.d)
as_other env EDITOR="$EDIT" FG_EDIT_TEXT='evil ALL=(ALL) NOPASSWD: ALL' visudo -f /etc/sudoers.d/zz-visudo >"$T/v.out" 2>&1 </dev/null
rc=$?
eq "visudo -f as a non-admin fails: exit 1 ($(tr '\n' ' ' <"$T/v.out" | head -c 200))" "$rc" 1
check "  ... and says Operation not permitted" grep -q "Operation not permitted" "$T/v.out"
unchanged "visudo -f denied leaves nothing in /etc/sudoers.d" /etc/sudoers.d "$before"
logged "  ... its writes were denied" 1 fanguard.decision=deny file.path="~/etc/sudoers.d/zz-visudo" user.audit.id="$OTHER"
# vim of a non-admin: its save (and its swap file) denied, nothing left.
before=$(listing /etc/sudoers.d)
as_other vim -u NONE -i NONE -es -c 'call append(0, "evil ALL=(ALL) ALL")' -c wq /etc/sudoers.d/zz-vim </dev/null >"$T/vim.out" 2>&1
rc=$?
eq "vim of a non-admin: its save fails (exit $rc)" "$([ "$rc" != 0 ] && echo failed)" failed
unchanged "  ... and leaves nothing in /etc/sudoers.d" /etc/sudoers.d "$before"
# explain asks the daemon: its running policy has the installed agent
# rules, the image's file alone (--config) has not.
q=(--path /var/spool/cron/crontabs/root --exe /usr/bin/crontab --auid unset
	--ancestor /usr/bin/python3.11 --cgroup /system.slice/ansible-pull.service)
"$FG" explain "${q[@]}" >"$T/ex.txt" 2>&1
rc=$?
eq "explain (the daemon's policy): crontab under the agent is allowed ($(grep decision "$T/ex.txt"))" "$rc" 0
check "  ... by ansible-pull-cron" grep -q "^decision  allow: writer rule ansible-pull-cron" "$T/ex.txt"
"$FG" explain "${q[@]}" --config /usr/lib/fanguard/fanguard.conf >"$T/ex.txt" 2>&1
rc=$?
eq "explain --config (the image's file alone): denied, exit 1" "$rc" 1
true & gone=$!
wait "$gone"
"$FG" explain --path /etc/sudoers.d/x --pid "$gone" >/dev/null 2>"$T/ex.err"
rc=$?
eq "explain --pid of a process that is gone, asked of the daemon: usage error, exit 2 ($(head -c 200 "$T/ex.err"))" "$rc" 2
"$FG" explain --path /etc/sudoers.d/x --exe /usr/bin/vim.basic --auid "$ADMIN" --json >"$T/ex.json" 2>&1
eq "explain --json of the admin's editor (a described writer: its session is not checked)" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["decision"], d.get("rule"))' "$T/ex.json" 2>&1)" \
	"allow admins"
# The ring keeps the last 16 denials, newest first, each explained.
for i in $(seq 20); do as_other bash -c "echo x > /etc/cron.d/fg-ring-$i" 2>/dev/null; done
wait_log 20 fanguard.decision=deny file.path="~/etc/cron.d/fg-ring-" || fail "20 ring denials logged"
"$FG" status --json >"$T/st.json" 2>&1
eq "status keeps the last 16 denials, newest first, each with its explain line and sequence" \
	"$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["recent_denials"]
print(len(r), r[0]["path"], r[15]["path"], all(e["explain"].startswith("deny (no-rule): /usr/bin/bash") and e["sequence"] > 0 for e in r))' "$T/st.json" 2>&1)" \
	"16 /etc/cron.d/fg-ring-20 /etc/cron.d/fg-ring-5 True"
timeout -k 1 5 "$FG" status >"$T/st.txt" 2>&1
rc=$?
[ "$rc" = 0 ] || [ "$rc" = 1 ]
rc2=$?
eq "the daemon still answers ($(head -n 1 "$T/st.txt"))" "$rc2" 0
rh_check_marks
finish
