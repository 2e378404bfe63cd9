/* Least privilege for fanguardd: the capabilities it keeps once set up
 * (libcap-ng), no_new_privs, and an allowlist seccomp filter (libseccomp).
 *
 * Capabilities are per thread: the kernel changes only the calling thread's
 * sets, and a thread started earlier keeps what it had. So the caps step runs
 * before the first thread is created (the logger), and the seccomp step,
 * which reaches every thread (TSYNC), runs last, just before the loop. */
#ifndef FANGUARD_HARDEN_H
#define FANGUARD_HARDEN_H

#include <stdbool.h>
#include <stdint.h>

struct fg_harden_opts {
	/* CAP_SYS_ADMIN: fanotify_init of the new groups a reload creates, and
	 * mount marks. Drop it only for a daemon that never reloads. */
	bool keep_sys_admin;
	/* CAP_DAC_OVERRIDE: removing the empty file a denied O_CREAT left in a
	 * directory that uid 0 cannot write as its owner (not owned by root, or
	 * mode without u+w). Protected subtrees are root-owned: off by default. */
	bool keep_dac_override;
	/* CAP_AUDIT_WRITE: fanotify_init with FAN_ENABLE_AUDIT on reload, so
	 * that decisions reach the kernel's audit log (audit_records). */
	bool keep_audit_write;
};

/* What fg_harden_apply(NULL) uses. */
#define FG_HARDEN_OPTS_DEFAULT ((struct fg_harden_opts){.keep_sys_admin = true})

/* The capability mask (bit n = capability n) that o keeps in the effective
 * and permitted sets; o NULL means FG_HARDEN_OPTS_DEFAULT. */
uint64_t fg_harden_cap_mask(const struct fg_harden_opts *o);

/* Keeps only the default capabilities in the calling thread's effective
 * and permitted sets, empties its inheritable, ambient and bounding sets,
 * and sets no_new_privs. The uid stays 0 (root-owned files stay readable
 * and writable through their owner bits). Returns 0; -EBUSY, changing
 * nothing, when another thread of the process holds capabilities beyond the
 * kept set (it could not be reached); -EPERM without CAP_SETPCAP; other
 * -errno. Safe to call again until the filter is loaded; after it, capset
 * is refused (-EPERM) and nothing changes. */
int fg_harden_caps(void);
int fg_harden_caps_opts(const struct fg_harden_opts *o);

/* Loads the allowlist filter into every thread of the process (TSYNC).
 * Syscalls not listed fail with EPERM; the dangerous ones (exec, ptrace,
 * mount, bpf, kexec, modules, keyrings, ...) and foreign architectures kill
 * the process; socket() and socketpair() are allowed for AF_UNIX only (other
 * families: EAFNOSUPPORT). Returns 0 or -errno; nothing is loaded on
 * failure. The filter refuses seccomp() itself: a second load is -EPERM. */
int fg_harden_seccomp(void);

/* fg_harden_caps_opts(o), then fg_harden_seccomp(). Returns 0 or the first
 * -errno. Does not log: the caller logs once. */
int fg_harden_apply(const struct fg_harden_opts *o);

#endif
