/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One sync per configuration at a time: an flock(2) on a file named after
 * the configuration's absolute path, in $XDG_RUNTIME_DIR or else /tmp. The
 * kernel releases the lock when the process ends however it ends (SIGKILL
 * included), so a killed run never blocks the next one.
 */
#ifndef ES_SYNC_LOCK_H
#define ES_SYNC_LOCK_H

#include <stdbool.h>

#include "base/error.h"

struct es_sync_lock {
        int fd;     /* -1 when not held */
        char *path; /* owned */
};

/*
 * Take the lock for config_path without waiting. Sets *busy and returns 0
 * when another process holds it; ES_ERR_IO when the lock file cannot be
 * opened. Release with es_sync_lock_release().
 */
int es_sync_lock_take(const char *config_path, struct es_sync_lock *lock, bool *busy,
                      struct es_error *err);

void es_sync_lock_release(struct es_sync_lock *lock);

#endif
