/* Helpers shared by the collection families (cmd_hash.c, cmd_set.c,
 * cmd_list.c, cmd_zset.c): the xSCAN commands, number formatting, counts. */
#ifndef STAGEKV_COLL_ARGS_H
#define STAGEKV_COLL_ARGS_H

#include <stddef.h>

#include "coll.h"
#include "server.h"

/* What xSCAN replies after each member. */
enum coll_scan_values { COLL_SCAN_MEMBER = 0, COLL_SCAN_VALUE = 1, COLL_SCAN_SCORE = 2 };
/* HSCAN/SSCAN/ZSCAN key cursor [MATCH pattern] [COUNT count]: argv[2] is
 * the cursor. The whole collection is returned with cursor 0 (as Redis does
 * for its small encodings): a scan is always complete. Opens the key itself. */
int coll_scan_command(client *c, unsigned type, char kind, int values);
/* Redis's human-friendly long double (HINCRBYFLOAT, INCRBYFLOAT). */
int coll_ld_format(char *buf, size_t cap, long double v);
/* Opens argv[ki] as a collection of type: 1 found, 0 absent, -1 failed
 * (WRONGTYPE left in ks->err). coll_free it in every case. */
int coll_open_arg(client *c, int ki, unsigned type, coll *co);
/* Keyspace notifications after a collection write (Redis 7.0's events,
 * docs/pubsub.md): event (class type) for key, then "del" (generic) when
 * the write left co empty, i.e. coll_save deleted the key, as Redis deletes
 * an emptied collection. co NULL: no emptiness check. */
void coll_notify(client *c, int type, const char *event, const resp_slice *key, const coll *co);
/* HLEN, LLEN, SCARD, ZCARD key: the size kept in the metadata, O(1). */
int coll_card_command(client *c, unsigned type);
/* [timeout] numkeys key [key ...] FIRST|SECOND [COUNT count] from argv[at]
 * (LMPOP/BLMPOP: LEFT|RIGHT, ZMPOP/BZMPOP: MIN|MAX): *second is 1 when the
 * second word was given. Replies the error itself. */
int coll_mpop_args(client *c, int at, int *nkeys, int *second, int64_t *count, const char *first,
                   const char *second_word);
/* Pops up to count elements from the first non-empty of the nkeys keys
 * at argv[first], at side (a family's own meaning: LEFT, MAX) and replies
 * (multi: the xMPOP shape): 1 popped, 0 all empty (nothing replied), -1. */
typedef int (*coll_pop_first_fn)(client *c, int first, int nkeys, int side, int64_t count, int multi);
/* LMPOP/ZMPOP (blocking 0) and BLMPOP/BZMPOP (1, the timeout first). */
int coll_mpop_command(client *c, int blocking, coll_pop_first_fn pop, const char *first, const char *second);
/* BLPOP/BRPOP/BZPOPMIN/BZPOPMAX key [key ...] timeout. */
int coll_bpop_command(client *c, coll_pop_first_fn pop, int side);

#endif
