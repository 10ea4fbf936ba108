/* The import of the hosted store's records (stagekv-import --from hosted,
 * docs/migration.md): a pure mapper from one record of the old store (its
 * key and its JSON value, in the seed's 44 key patterns and old shapes) to
 * a plan of domain writes, or the reason it cannot be mapped.
 *
 * Pure: no keyspace, no engine, no allocation kept past import_plan_free;
 * the same input always gives the same plan or the same reason, so it is
 * unit-tested and fuzzed without a server. import_apply.c carries a plan
 * out through the models.
 */
#ifndef STAGEKV_IMPORT_H
#define STAGEKV_IMPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "domain.h"
#include "entity.h"

/* What a record becomes. */
typedef enum imp_kind {
    IMP_DERIVED = 0,    /* derived data of the old store: nothing to write (the engine keeps its own) */
    IMP_USER_BASE,      /* users:{uid}:base -> USER.CREATE (or the base patched when the user exists) */
    IMP_USER_SECTION,   /* users:{uid}:profile|subscription -> USER.UPDATE section */
    IMP_SETTINGS,       /* settings:{uid}:{section} -> SETTINGS.SET */
    IMP_LEDGER,         /* coins:{uid}:transactions -> ledger rows, oldest first */
    IMP_BALANCE,        /* coins:{uid}:balance -> an opening/adjusting ledger row so that balance = sum */
    IMP_DONATIONS,      /* donations:{uid}:list -> donation records (no coins move: the ledger has them) */
    IMP_PAYMENTS,       /* payments:{uid}:transactions -> PAYMENT.RECORD (+ status) */
    IMP_ENTITIES,       /* tracks:{uid}:list & co -> one document per element */
    IMP_FEED,           /* concerts|news:public:promoted, banners:active:list -> the feed flags */
    IMP_ANALYTICS,      /* analytics:{kind}:{id}:{date} -> ANALYTICS.INCR per field */
    IMP_MESSAGES,       /* messages:{conv} -> MSG.SEND per message, read flags */
    IMP_MSG_UNREAD,     /* messages:{uid}:unread -> the other conversations read */
    IMP_NOTIFICATIONS,  /* notifications:{uid} -> one notification per element, read flags */
    IMP_NOTIFY_UNREAD,  /* notifications:{uid}:unread -> the unlisted ones read */
    IMP_EMAIL_SUBS,     /* email:{uid}:subscriptions -> EMAIL.SUBSCRIBE per list */
    IMP_EMAIL_LOG,      /* email:{uid}:history -> EMAIL.LOG per entry */
    IMP_TICKET,         /* tickets:{ticket}:details -> TICKET.OPEN (same id) [+ replies] [+ CLOSE] */
    IMP_TICKET_REPLIES, /* tickets:{ticket}:messages -> TICKET.REPLY per message */
} imp_kind;

/* Records of phase 2 refer to what phase-1 records create (a user's base,
 * the ledger rows, notifications, conversations, tickets, the documents a
 * feed names): the tool sends them after every phase-1 record, so records
 * may come in any order. */
#define IMP_PHASES 2

/* One of the 44 patterns. */
typedef struct imp_pattern {
    const char *pattern;  /* "tracks:{uid}:list" */
    imp_kind kind;
    int phase;            /* 1 or 2; 0 for IMP_DERIVED */
    const char *arg;      /* a section, an analytics kind, a derived record's note */
    const entity_ns *ns;  /* IMP_ENTITIES, IMP_FEED */
} imp_pattern;

/* The patterns in match order; import_pattern_at(i) until NULL. */
const imp_pattern *import_pattern_at(size_t i);

/* A record mapped: what the apply step needs, checked and normalized.
 * value is owned by the plan (see import.c for each kind's shape). */
typedef struct imp_plan {
    const imp_pattern *pat;
    char owner[DOM_ID_BUF];  /* uid, conv, ticket, or the analytics entity id */
    char date[11];           /* IMP_ANALYTICS */
    json_t *value;
    int64_t amount;          /* IMP_BALANCE: the balance; IMP_LEDGER: the rows' sum */
    int64_t low;             /* IMP_LEDGER: the lowest running sum of the rows (<= 0) */
    size_t items;            /* elements the record holds */
} imp_plan;

/* Maps one record: key (kl bytes) and its JSON value text (vl bytes).
 * max_doc: the document size limit (max-document-size). 0 and *out filled
 * (import_plan_free), or -1 with the reason in why (nothing allocated). */
int import_map(const char *key, size_t kl, const char *val, size_t vl, long long max_doc, imp_plan *out, char *why,
               size_t cap);
void import_plan_free(imp_plan *p);

/* A name for the kind ("entities", "ledger", ...). */
const char *import_kind_name(imp_kind k);

#endif
