/* The floor: the least a fanotify permission guard can do. One child
 * process, one permission group, one directory mark; it answers FAN_ALLOW
 * to every event and looks at nothing. A child rather than a thread because
 * that is fanguardd's situation: the opener and the answerer are different
 * processes, and every decision is two context switches. */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/fanotify.h>
#include <unistd.h>

static void serve(int fan)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));

	for (;;) {
		ssize_t len = read(fan, buf, sizeof(buf));
		const struct fanotify_event_metadata *md = (const void *)buf;

		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			_exit(1);
		for (; FAN_EVENT_OK(md, len); md = FAN_EVENT_NEXT(md, len)) {
			struct fanotify_response r = {.fd = md->fd, .response = FAN_ALLOW};
			if (md->fd < 0)
				continue;
			if (md->mask & FAN_OPEN_PERM &&
			    write(fan, &r, sizeof(r)) != (ssize_t)sizeof(r))
				_exit(1);
			close(md->fd);
		}
	}
}

pid_t floor_start(const char *dir)
{
	int ready[2];
	char ok = 0;
	pid_t pid;

	if (pipe2(ready, O_CLOEXEC) < 0)
		return -errno;
	pid = child_fork();
	if (pid < 0) {
		close(ready[0]);
		close(ready[1]);
		return pid;
	}
	if (pid == 0) {
		int fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY | O_LARGEFILE);
		if (fan < 0 || fanotify_mark(fan, FAN_MARK_ADD, FAN_OPEN_PERM | FAN_EVENT_ON_CHILD,
					     AT_FDCWD, dir) < 0) {
			perror("fgbench: floor listener");
			_exit(1);
		}
		ok = 1;
		if (write(ready[1], &ok, 1) != 1)
			_exit(1);
		serve(fan);
	}
	close(ready[1]);
	if (read(ready[0], &ok, 1) != 1 || !ok) {
		close(ready[0]);
		child_wait(pid, 5);
		return -EIO;
	}
	close(ready[0]);
	return pid;
}
