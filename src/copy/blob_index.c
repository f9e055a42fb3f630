/* SPDX-License-Identifier: Apache-2.0 */
/* Blobs known to be at the target during a run. */
#include "copy/blob_index.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

struct entry {
        char *registry;
        char *digest;
        char *repository; /* where it is; NULL while being transferred */
        bool in_flight;
};

struct es_blob_index {
        pthread_mutex_t lock;
        pthread_cond_t changed;
        struct entry *entries;
        size_t n, alloc;
};

struct es_blob_index *es_blob_index_new(void)
{
        struct es_blob_index *index = es_calloc(1, sizeof(*index));

        pthread_mutex_init(&index->lock, NULL);
        pthread_cond_init(&index->changed, NULL);
        return index;
}

void es_blob_index_free(struct es_blob_index *index)
{
        if (index == NULL)
                return;
        for (size_t i = 0; i < index->n; i++) {
                free(index->entries[i].registry);
                free(index->entries[i].digest);
                free(index->entries[i].repository);
        }
        free(index->entries);
        pthread_cond_destroy(&index->changed);
        pthread_mutex_destroy(&index->lock);
        free(index);
}

/* NOTE: a linear search; a run's distinct blobs number in the thousands at most. */
static struct entry *find(struct es_blob_index *index, const char *registry, const char *digest)
{
        for (size_t i = 0; i < index->n; i++)
                if (strcmp(index->entries[i].digest, digest) == 0 &&
                    strcmp(index->entries[i].registry, registry) == 0)
                        return &index->entries[i];
        return NULL;
}

static struct entry *insert(struct es_blob_index *index, const char *registry, const char *digest)
{
        struct entry *entry;

        if (index->n == index->alloc) {
                index->alloc = index->alloc ? index->alloc * 2 : 256;
                index->entries = es_realloc(index->entries, index->alloc * sizeof(*entry));
        }
        entry = &index->entries[index->n++];
        memset(entry, 0, sizeof(*entry));
        entry->registry = es_strdup(registry);
        entry->digest = es_strdup(digest);
        return entry;
}

enum es_blob_claim es_blob_index_claim(struct es_blob_index *index, const char *registry,
                                       const char *digest, char **from)
{
        enum es_blob_claim claim;
        struct entry *entry;

        *from = NULL;
        pthread_mutex_lock(&index->lock);
        while ((entry = find(index, registry, digest)) != NULL && entry->in_flight)
                pthread_cond_wait(&index->changed, &index->lock);
        if (entry && entry->repository) {
                *from = es_strdup(entry->repository);
                claim = ES_BLOB_CLAIM_MOUNT;
        } else {
                if (entry == NULL)
                        entry = insert(index, registry, digest);
                entry->in_flight = true;
                claim = ES_BLOB_CLAIM_TRANSFER;
        }
        pthread_mutex_unlock(&index->lock);
        return claim;
}

void es_blob_index_done(struct es_blob_index *index, const char *registry, const char *digest,
                        const char *repository, bool success)
{
        struct entry *entry;

        pthread_mutex_lock(&index->lock);
        entry = find(index, registry, digest);
        if (entry) {
                entry->in_flight = false;
                if (success && entry->repository == NULL)
                        entry->repository = es_strdup(repository);
        }
        pthread_cond_broadcast(&index->changed);
        pthread_mutex_unlock(&index->lock);
}

void es_blob_index_add(struct es_blob_index *index, const char *registry, const char *digest,
                       const char *repository)
{
        struct entry *entry;

        pthread_mutex_lock(&index->lock);
        entry = find(index, registry, digest);
        if (entry == NULL)
                entry = insert(index, registry, digest);
        if (entry->repository == NULL)
                entry->repository = es_strdup(repository);
        pthread_mutex_unlock(&index->lock);
}
