/* SPDX-License-Identifier: Apache-2.0 */
/* One sync per configuration at a time. */
#include "sync/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "registry/digest.h"

int es_sync_lock_take(const char *config_path, struct es_sync_lock *lock, bool *busy,
                      struct es_error *err)
{
        const char *directory = getenv("XDG_RUNTIME_DIR");
        char digest[ES_DIGEST_SHA256_LENGTH];
        _cleanup_free_ char *absolute = realpath(config_path, NULL);
        const char *name = absolute ? absolute : config_path;

        *busy = false;
        lock->fd = -1;
        if (directory == NULL || *directory == '\0')
                directory = "/tmp";
        es_digest_sha256(name, strlen(name), digest);
        /* "sha256:" and 16 hex digits name the configuration. */
        lock->path = es_asprintf("%s/ecr-sync-%.16s.lock", directory, digest + 7);

        lock->fd = open(lock->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (lock->fd < 0) {
                int saved = errno;

                free(lock->path);
                lock->path = NULL;
                return es_error_set(err, ES_ERR_IO, "cannot open the lock file in '%s': %s",
                                    directory, strerror(saved));
        }
        if (flock(lock->fd, LOCK_EX | LOCK_NB) < 0) {
                int saved = errno;

                close(lock->fd);
                lock->fd = -1;
                if (saved == EWOULDBLOCK) {
                        *busy = true;
                        return 0;
                }
                return es_error_set(err, ES_ERR_IO, "cannot lock '%s': %s", lock->path,
                                    strerror(saved));
        }
        return 0;
}

void es_sync_lock_release(struct es_sync_lock *lock)
{
        if (lock->fd >= 0)
                close(lock->fd);
        lock->fd = -1;
        free(lock->path);
        lock->path = NULL;
}
