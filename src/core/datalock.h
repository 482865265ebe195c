/*
 * datalock.h - "parleyd runs on this data directory": a lock file,
 * <data_dir>/parleyd.lock, that parleyd holds with flock(2) for as long as
 * it runs, with its pid written in it for the admin.
 *
 * The kernel drops the lock when the process ends, however it ends, so a
 * stale file never blocks anything (unlike a pid file, whose pid may have
 * been reused).  `parleyctl restore` takes the same lock: it refuses while
 * parleyd runs, and a parleyd started during a restore refuses to start.
 */
#ifndef PARLEY_CORE_DATALOCK_H
#define PARLEY_CORE_DATALOCK_H

#include <stddef.h>
#include <sys/types.h>

#define DATALOCK_FILE	"parleyd.lock"

/*
 * Takes the lock of data_dir without waiting.  Returns its descriptor
 * (close it to let go), or -1 with a one-line reason in err; *holder is
 * then the pid written by the process that holds it (0 when the failure
 * is something else, or the holder wrote none).  With write_pid the
 * caller's pid replaces the file's content.
 */
int	 datalock_take(const char *data_dir, int write_pid, pid_t *holder,
	    char *err, size_t errlen);

#endif
