/* datalock.c - see datalock.h. */
#include "core/datalock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static pid_t read_pid(int fd)
{
	char b[32];
	ssize_t n = pread(fd, b, sizeof(b) - 1, 0);

	if (n <= 0)
		return 0;
	b[n] = '\0';
	return (pid_t)strtol(b, NULL, 10);
}

int datalock_take(const char *data_dir, int write_pid, pid_t *holder,
    char *err, size_t errlen)
{
	char path[4096], line[32];
	int fd, n;

	*holder = 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", data_dir,
	    DATALOCK_FILE) >= sizeof(path)) {
		snprintf(err, errlen, "%s: path too long", data_dir);
		return -1;
	}
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		*holder = read_pid(fd);
		if (e == EWOULDBLOCK && *holder > 0)
			snprintf(err, errlen, "%s is in use by pid %ld (a "
			    "running parleyd, or parleyctl restore)", data_dir,
			    (long)*holder);
		else if (e == EWOULDBLOCK)
			snprintf(err, errlen, "another program holds %s",
			    path);
		else
			snprintf(err, errlen, "%s: cannot lock: %s", path,
			    strerror(e));
		close(fd);
		return -1;
	}
	if (write_pid) {
		n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
		if (ftruncate(fd, 0) != 0 ||
		    pwrite(fd, line, (size_t)n, 0) != n) {
			snprintf(err, errlen, "%s: cannot write: %s", path,
			    strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}
