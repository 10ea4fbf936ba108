/* The analytics model (SPEC §4.6): per-day counters of tracks and concerts.
 * Key layout and the measurements behind the write path: analytics.c.
 * Arguments reach here validated by the handlers (kind "tracks" or
 * "concerts", id a valid id, date a real YYYY-MM-DD, field
 * [a-z][a-z0-9_]{0,31} and not "date"). Functions return -1 with the
 * reason in e->ks->err; nothing here replies.
 */
#ifndef STAGEKV_ANALYTICS_H
#define STAGEKV_ANALYTICS_H

#include <stdint.h>

#include "domain.h"

#define ANALYTICS_DATE_LEN 10
#define ANALYTICS_FIELD_MAX 32

/* Keys. */
void analytics_key_day(dkey *k, const char *kind, const char *id, const char *date); /* analytics:{kind}:{id}:{date} */
void analytics_key_entity(dkey *k, const char *kind, const char *id);                 /* analytics:{kind}:{id}: */

/* ANALYTICS.INCR's step: adds n (>= 1) to member field (fl bytes) of the
 * day document (created as {"date": ...} when absent); *out gets the new
 * value. INVALID when it would pass 2^63-1. */
int analytics_incr(struct dom_engine *e, const char *kind, const char *id, const char *date, const char *field,
                   size_t fl, int64_t n, int64_t *out);

/* ANALYTICS.RANGE's scan: calls fn with each stored day document from..to
 * (inclusive; dates as text), ascending by date. 0, or -1 (a storage
 * error, after fn saw some days). */
typedef void (*analytics_day_fn)(const char *doc, size_t len, void *arg);
int analytics_range(struct dom_engine *e, const char *kind, const char *id, const char *from, const char *to,
                    analytics_day_fn fn, void *arg);

/* The entity model's delete hook of TRACK and CONCERT (kind = the
 * namespace's meta name): removes every analytics row of the id (the
 * prefix "analytics:{kind}:{id}:", one prefix delete) in the command's
 * batch. USER.DELETE counts these rows in its :N from the key count. */
int analytics_purge_entity(struct dom_engine *e, const char *kind, const char *id);

#endif
