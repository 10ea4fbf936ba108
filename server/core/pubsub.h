/* Pub/sub: the channel and pattern registries, message delivery (RESP2
 * arrays, RESP3 pushes), the events that wait for their write to be
 * durable, keyspace notifications and MONITOR. See docs/pubsub.md.
 *
 * Ownership: the server owns the registries (s->ps); an entry owns its
 * name and its array of subscribers (borrowed client pointers), and each
 * client keeps the entries it is subscribed to (c->ps_chans, c->ps_pats),
 * so unsubscribing everything on close is O(subscriptions). Messages are
 * appended to the subscribers' output buffers and written with the loop
 * iteration's replies; a subscriber whose unsent output passes the pubsub
 * class of client-output-buffer-limit is closed, never waited for.
 *
 * Two ways to publish:
 *   pubsub_publish        now (PUBLISH): returns the number of receivers.
 *   pubsub_publish_after_commit  queued with the running command's writes:
 *                         delivered once the loop iteration's batch is in
 *                         the WAL (fsynced when the fsync mode or a `sync`
 *                         command asks), dropped when the command fails or
 *                         the commit fails (domain events, keyspace events).
 */
#ifndef STAGEKV_PUBSUB_H
#define STAGEKV_PUBSUB_H

#include <stddef.h>
#include <stdint.h>

#include "resp.h"

typedef struct server server;
typedef struct client client;

int pubsub_init(server *s);
void pubsub_free(server *s);

/* ---- subscriptions (the caller has checked pubsub_channel_allowed) ---------
 * Each replies Redis's confirmation (as a push in RESP3). A name is
 * binary-safe. */
void pubsub_subscribe(client *c, const char *ch, size_t n);
void pubsub_psubscribe(client *c, const char *pat, size_t n);
void pubsub_unsubscribe(client *c, const char *ch, size_t n);
void pubsub_punsubscribe(client *c, const char *pat, size_t n);
/* Without arguments: every channel (pattern), one confirmation each, or one
 * with a nil name when there was none. */
void pubsub_unsubscribe_all(client *c);
void pubsub_punsubscribe_all(client *c);
/* RESET and close: leaves every subscription and MONITOR, no reply. */
void pubsub_client_gone(client *c);
int pubsub_client_count(const client *c); /* channels + patterns */

/* ACL's channel check (the user's &patterns), the one call site for it:
 * 1 allowed, 0 denied. */
int pubsub_channel_allowed(client *c, const char *ch, size_t len, int is_pattern);

/* ---- publishing ------------------------------------------------------------ */
int64_t pubsub_publish(server *s, const char *ch, size_t chl, const char *msg, size_t ml);
void pubsub_publish_after_commit(server *s, const char *ch, size_t chl, const char *msg, size_t ml);
/* Whether any client subscribes to any channel or pattern: when not, an
 * event published now reaches nobody, so it need not be built. */
int pubsub_listened(const server *s);
/* The pending events (for the command and commit protocol). */
size_t pubsub_pending_mark(const server *s);
void pubsub_pending_rollback(server *s, size_t mark); /* a command failed */
void pubsub_drop_pending(server *s);                  /* a commit or WAL write failed */
int pubsub_has_pending(const server *s);
void pubsub_deliver_pending(server *s);               /* the WAL holds the writes */
/* Moves pushes held while CLIENT REPLY dropped c's replies to its output. */
void pubsub_release_held(client *c);

/* Introspection (PUBSUB): channels with a subscriber matching pat (pat
 * NULL: all), in no particular order; subscriber count of one channel;
 * number of distinct patterns. */
void pubsub_each_channel(server *s, const char *pat, size_t pl, void (*fn)(void *arg, const char *ch, size_t n),
                         void *arg);
int64_t pubsub_numsub(server *s, const char *ch, size_t n);
int64_t pubsub_numpat(server *s);

/* ---- keyspace notifications (notify-keyspace-events) ----------------------
 * type: one NOTIFY_* class. Queued with the command's writes. db is the
 * logical (SELECT) number. */
void notify_keyspace_event(server *s, int type, const char *event, int db, const char *key, size_t kl);
/* The same for a key argument of c's command, in c's database. */
void notify_key(client *c, int type, const char *event, const resp_slice *key);

/* ---- MONITOR ---------------------------------------------------------------- */
void monitor_add(client *c);
/* Sends c's command line (c->argv) to every monitor, Redis's format. */
void monitor_feed(client *c);
int monitor_active(const server *s);

#endif
