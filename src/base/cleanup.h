/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scope-bound cleanup, systemd style. Initialise every cleanup variable at its
 * declaration, and hand ownership out with TAKE_PTR().
 */
#ifndef ES_BASE_CLEANUP_H
#define ES_BASE_CLEANUP_H

#include <stdlib.h>

static inline void es_freep(void *p)
{
        free(*(void **)p);
}

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(es_freep)

/* Return the pointer and set the variable to NULL so cleanup skips it. */
#define TAKE_PTR(ptr)                                                                              \
        ({                                                                                         \
                __typeof__(ptr) _taken = (ptr);                                                    \
                (ptr) = NULL;                                                                      \
                _taken;                                                                            \
        })

/* Define TYPE_freep() for use with _cleanup_(TYPE_freep). */
#define ES_DEFINE_CLEANUP(type, func)                                                              \
        static inline void func##p(type *p)                                                        \
        {                                                                                          \
                if (*p)                                                                            \
                        func(*p);                                                                  \
        }

#define ES_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
