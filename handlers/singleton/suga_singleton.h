/* suga_singleton.h: named process-wide instances, created on first use and kept across Lambda
 * invocations (a connection pool, a parsed configuration, a compiled template...).
 *
 * Two kinds share one namespace: JSON instances, made by the singleton.get operation from its
 * `init` argument, and native instances, made by a C create function through this API. A name
 * belongs to the first kind that creates it. Instances live until dropped (singleton.drop or
 * suga_singleton_drop_all); a native instance's destroy function runs then.
 */
#ifndef SUGA_SINGLETON_H
#define SUGA_SINGLETON_H

#include <stddef.h>

#include "suga.h"

#define SUGA_SINGLETON_MAX_NAME 128

/* Make the instance; *approx_bytes (0 if unknown) is what singleton.stats reports for it.
 * A status other than SUGA_OK means nothing was made and nothing is registered. */
typedef suga_status (*suga_singleton_create_fn)(void *arg, void **instance, size_t *approx_bytes);
typedef void (*suga_singleton_destroy_fn)(void *instance);

/* The native instance named name: created with create(arg, ...) on first use, the same pointer
 * afterwards (create, arg and destroy are then ignored). destroy may be NULL.
 * SUGA_E_STATE when name belongs to a JSON instance or is being created by an enclosing call
 * (a create function that needs itself); SUGA_E_INVALID_ARG for a NULL or empty name, a name
 * longer than SUGA_SINGLETON_MAX_NAME bytes, or no create function when one is needed; SUGA_E_LIMIT when creations
 * nest deeper than 16; otherwise create's own status. */
suga_status suga_singleton_get_native(const char *name, suga_singleton_create_fn create, void *arg,
                                      suga_singleton_destroy_fn destroy, void **out);

/* Destroy every instance, the most recently created first (a later instance may use an earlier
 * one), and release the registry. */
suga_status suga_singleton_drop_all(void);

#endif
