/* libstagekv: a C client for stagekv on hiredis.
 *
 * One skv_client is one connection, used by one thread at a time (like a
 * redisContext); an skv_pool hands clients out to threads.
 *
 * Every call returns an skv_status and, when err is not NULL, fills *err
 * (code, message, attempts), also on success.
 *
 * Retries: a command is sent up to max_attempts times (backoff with full
 * jitter, reconnecting in between) only when the server's COMMAND INFO
 * says repeating it is safe: `readonly` and `retry_safe` commands as they
 * are, `idemp` commands with an `IDEMP <key>` the library appends (32 random
 * hex digits, the same key on every attempt), so the server applies them
 * once. Every other command is sent once and a transport failure is
 * reported, never hidden.
 *
 * Ownership: json_t arguments are borrowed (never stolen). A json_t ** out
 * parameter receives a new reference the caller json_decref()s; it is NULL
 * on any error, and NULL with SKV_OK where the server said "absent". A
 * redisReply ** out parameter receives a reply the caller frees with
 * freeReplyObject(). Id outputs are written into a char[SKV_ID_SIZE] the
 * caller provides. */
#ifndef STAGEKV_H
#define STAGEKV_H

#include <stddef.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SKV_API __attribute__((visibility("default")))
#else
#define SKV_API
#endif

#define SKV_VERSION_MAJOR 0
#define SKV_VERSION_MINOR 1
#define SKV_VERSION_PATCH 0

/* An identifier (SPEC §4: 1-64 bytes) and its terminating NUL. */
#define SKV_ID_SIZE 65

/* ---- errors --------------------------------------------------------------- */

typedef enum skv_status {
    SKV_OK = 0,
    /* the server replied with an error; the code word picks the kind */
    SKV_INVALID,            /* -INVALID: a bad argument */
    SKV_NOTFOUND,           /* -NOTFOUND */
    SKV_INSUFFICIENT_FUNDS, /* -INSUFFICIENT_FUNDS balance N, need M */
    SKV_CONFLICT,           /* -CONFLICT */
    SKV_ERR,                /* any other error reply (-ERR, -NOAUTH, -WRONGPASS, ...) */
    /* transport: no usable reply after every allowed attempt */
    SKV_IO,       /* connect refused, connection reset or closed */
    SKV_TIMEOUT,  /* connect or command timeout */
    SKV_PROTOCOL, /* a reply that is not RESP, or not the shape the call expects */
    SKV_OOM       /* out of memory in the client */
} skv_status;

typedef struct skv_error {
    skv_status code;
    int attempts;   /* tries (connect and send) the last call made */
    char msg[256];  /* the server's error text or the transport error; "" on SKV_OK */
} skv_error;

/* "SKV_OK", "SKV_INVALID", ... */
SKV_API const char *skv_status_name(skv_status s);
/* Nonzero for SKV_IO, SKV_TIMEOUT, SKV_PROTOCOL: the answer is unknown,
 * as opposed to a server that said no. */
SKV_API int skv_is_transport(skv_status s);

/* ---- connecting ---------------------------------------------------------------- */

typedef struct skv_options {
    const char *host;       /* default "127.0.0.1" */
    int port;               /* default 6380 */
    const char *unix_path;  /* a unix socket instead of host/port */
    const char *username;   /* AUTH username password when both are set */
    const char *password;   /* AUTH password */
    int db;                 /* SELECT db when not 0 (KV.* and domain commands use 0 anyway) */
    int connect_timeout_ms; /* default 2000 */
    int command_timeout_ms; /* per socket read/write; default 5000 */
    int max_attempts;       /* attempts for a retry-safe command; default 3 */
    int backoff_base_ms;    /* delay before retry k: uniform in [0, min(cap, base * 2^(k-1))]; default 50 */
    int backoff_cap_ms;     /* default 1000 */
} skv_options;

/* Fills *o with the defaults above (a zeroed struct means the same). */
SKV_API void skv_options_init(skv_options *o);

typedef struct skv_client skv_client;

/* Connects (AUTH, SELECT), loads the server's command flags (COMMAND INFO)
 * and returns a client in *out. The options' strings are copied. */
SKV_API skv_status skv_open(const skv_options *o, skv_client **out, skv_error *err);
/* Closes and frees; NULL is fine. Not for clients of a pool (skv_pool_put). */
SKV_API void skv_close(skv_client *c);
/* Whether the client holds a healthy connection (it reconnects on its own). */
SKV_API int skv_connected(const skv_client *c);

/* ---- the pool: clients for threads ---------------------------------------------- */

typedef struct skv_pool skv_pool;

/* A pool of at most max_size connections, opened on demand; the command
 * flags are loaded once and shared. */
SKV_API skv_status skv_pool_new(const skv_options *o, int max_size, skv_pool **out, skv_error *err);
/* Checks a client out, waiting up to timeout_ms (< 0: forever) for one to
 * come back when max_size are out: SKV_TIMEOUT then. */
SKV_API skv_status skv_pool_get(skv_pool *p, int timeout_ms, skv_client **out, skv_error *err);
/* Checks a client back in; a broken one is closed and replaced on demand. */
SKV_API void skv_pool_put(skv_pool *p, skv_client *c);
/* Frees the pool; every client must be back. NULL is fine. */
SKV_API void skv_pool_free(skv_pool *p);

/* ---- any command ----------------------------------------------------------------- */

/* Sends one command (binary-safe argv; argvlen NULL means strlen) under
 * the retry policy. On SKV_OK *reply holds the server's reply (not an
 * error reply: those become the status, with their text in err->msg). */
SKV_API skv_status skv_command_argv(skv_client *c, int argc, const char **argv, const size_t *argvlen,
                                    redisReply **reply, skv_error *err);
/* The same with NUL-terminated strings, the list ending with NULL. */
SKV_API skv_status skv_command(skv_client *c, redisReply **reply, skv_error *err, const char *arg0, ...);

/* The policy the client applies to a command name, from COMMAND INFO. */
#define SKV_CMD_KNOWN 1      /* the server has the command */
#define SKV_CMD_READONLY 2
#define SKV_CMD_WRITE 4
#define SKV_CMD_IDEMP 8      /* accepts IDEMP key: sent with one, retried */
#define SKV_CMD_RETRY_SAFE 16
SKV_API int skv_command_flags(const skv_client *c, const char *name);

/* ---- KV.*: the hosted store's seven operations (SPEC §3) -------------------------- */

/* KV.GET: the value, or NULL (SKV_OK) when absent. A value that is not
 * JSON (written by plain SET) is SKV_PROTOCOL. */
SKV_API skv_status skv_kv_get(skv_client *c, const char *key, json_t **value, skv_error *err);
/* KV.SET with any JSON value. */
SKV_API skv_status skv_kv_set(skv_client *c, const char *key, const json_t *value, skv_error *err);
/* KV.DEL: *deleted 1 or 0 (may be NULL). */
SKV_API skv_status skv_kv_del(skv_client *c, const char *key, long long *deleted, skv_error *err);
/* KV.MGET: an array of n values, JSON null where a key is absent. */
SKV_API skv_status skv_kv_mget(skv_client *c, const char *const *keys, size_t n, json_t **values, skv_error *err);
/* KV.MSET of every member of the object pairs (key -> value), atomically. */
SKV_API skv_status skv_kv_mset(skv_client *c, const json_t *pairs, skv_error *err);
/* KV.MDEL: *deleted keys (may be NULL). */
SKV_API skv_status skv_kv_mdel(skv_client *c, const char *const *keys, size_t n, long long *deleted,
                               skv_error *err);

typedef struct skv_kv_page {
    const char *after; /* continue after this key (exclusive); NULL: from the start */
    long limit;        /* at most this many pairs; 0: all */
} skv_kv_page;

/* KV.GETBYPREFIX: an array of {"key": k, "value": v} in key order; the
 * last element's key is the next page's after. */
SKV_API skv_status skv_kv_get_by_prefix(skv_client *c, const char *prefix, const skv_kv_page *page,
                                        json_t **items, skv_error *err);

/* ---- domain helpers (SPEC §4) ---------------------------------------------------------
 * Lists take an optional page (NULL: the first 50) and return a JSON array,
 * empty when the owner has nothing. Creating commands write the new id into
 * id (may be NULL). Counts and 0/1 results go to an optional long long *. */

typedef struct skv_page {
    const char *after; /* continue after this id (exclusive); NULL: from the newest */
    int limit;         /* 1-1000; 0: the server's default (50) */
} skv_page;

/* Users (§4.2). section: "base", "profile" or "subscription". */
SKV_API skv_status skv_create_user(skv_client *c, const char *uid, const json_t *base, skv_error *err);
SKV_API skv_status skv_get_user(skv_client *c, const char *uid, json_t **user, skv_error *err);
SKV_API skv_status skv_update_user(skv_client *c, const char *uid, const char *section, const json_t *patch,
                                   json_t **updated, skv_error *err);
SKV_API skv_status skv_delete_user(skv_client *c, const char *uid, long long *removed, skv_error *err);
/* USER.BYEMAIL: uid[0] == '\0' when no user has that email. */
SKV_API skv_status skv_get_uid_by_email(skv_client *c, const char *email, char uid[SKV_ID_SIZE], skv_error *err);
/* USER.BYEMAIL then USER.GET: the user or NULL. */
SKV_API skv_status skv_get_user_by_email(skv_client *c, const char *email, json_t **user, skv_error *err);
/* USER.LIST (admin): every user's base document in uid byte order,
 * ascending (page->after: a uid). */
SKV_API skv_status skv_list_users(skv_client *c, const skv_page *page, json_t **list, skv_error *err);

/* The entities of §4.1, one engine behind all of them. */
typedef enum skv_entity {
    SKV_TRACK,
    SKV_VIDEO,
    SKV_CONCERT,
    SKV_NEWS,
    SKV_BANNER,
    SKV_PROMO,
    SKV_PITCH,
    SKV_PAYMETHOD
} skv_entity;

/* cost > 0 (PROMO and PITCH only) spends that many coins in the same step. */
SKV_API skv_status skv_entity_create(skv_client *c, skv_entity ns, const char *uid, const json_t *doc,
                                     long long cost, char id[SKV_ID_SIZE], skv_error *err);
SKV_API skv_status skv_entity_get(skv_client *c, skv_entity ns, const char *uid, const char *id, json_t **doc,
                                  skv_error *err);
SKV_API skv_status skv_entity_list(skv_client *c, skv_entity ns, const char *uid, const skv_page *page,
                                   json_t **list, skv_error *err);
/* -NOTFOUND (SKV_NOTFOUND) when absent. */
SKV_API skv_status skv_entity_update(skv_client *c, skv_entity ns, const char *uid, const char *id,
                                     const json_t *patch, json_t **doc, skv_error *err);
SKV_API skv_status skv_entity_delete(skv_client *c, skv_entity ns, const char *uid, const char *id,
                                     long long *deleted, skv_error *err);
SKV_API skv_status skv_entity_count(skv_client *c, skv_entity ns, const char *uid, long long *n, skv_error *err);
/* CONCERT and NEWS: PROMOTE / UNPROMOTE (on: 1 / 0) and the public
 * PROMOTED feeds; skv_entity_promoted(SKV_BANNER) is BANNER.ACTIVE. */
SKV_API skv_status skv_entity_promote(skv_client *c, skv_entity ns, const char *uid, const char *id, int on,
                                      long long *changed, skv_error *err);
SKV_API skv_status skv_entity_promoted(skv_client *c, skv_entity ns, const skv_page *page, json_t **list,
                                       skv_error *err);
/* TRACK, VIDEO, CONCERT and NEWS: the public feed of every document of
 * the namespace, all users, newest first (NS.FEED). */
SKV_API skv_status skv_get_feed(skv_client *c, skv_entity ns, const skv_page *page, json_t **list, skv_error *err);

/* The platform's names for them: skv_create_<one>, skv_get_<one>,
 * skv_get_user_<many>, skv_update_<one>, skv_delete_<one>,
 * skv_count_user_<many>. */
#define SKV_ENTITY_PROTOS(one, many)                                                                           \
    SKV_API skv_status skv_create_##one(skv_client *c, const char *uid, const json_t *doc, char id[SKV_ID_SIZE], \
                                        skv_error *err);                                                       \
    SKV_API skv_status skv_get_##one(skv_client *c, const char *uid, const char *id, json_t **doc,             \
                                     skv_error *err);                                                          \
    SKV_API skv_status skv_get_user_##many(skv_client *c, const char *uid, const skv_page *page, json_t **list, \
                                           skv_error *err);                                                    \
    SKV_API skv_status skv_update_##one(skv_client *c, const char *uid, const char *id, const json_t *patch,   \
                                        json_t **doc, skv_error *err);                                         \
    SKV_API skv_status skv_delete_##one(skv_client *c, const char *uid, const char *id, long long *deleted,    \
                                        skv_error *err);                                                       \
    SKV_API skv_status skv_count_user_##many(skv_client *c, const char *uid, long long *n, skv_error *err);

/* skv_create_track, skv_get_track, skv_get_user_tracks, skv_update_track,
 * skv_delete_track, skv_count_user_tracks; likewise video/videos,
 * concert/concerts, news/news, banner/banners,
 * promotion_campaign/promotion_campaigns, pitching_submission/
 * pitching_submissions, payment_method/payment_methods. */
SKV_ENTITY_PROTOS(track, tracks)
SKV_ENTITY_PROTOS(video, videos)
SKV_ENTITY_PROTOS(concert, concerts)
SKV_ENTITY_PROTOS(news, news)
SKV_ENTITY_PROTOS(banner, banners)
SKV_ENTITY_PROTOS(promotion_campaign, promotion_campaigns)
SKV_ENTITY_PROTOS(pitching_submission, pitching_submissions)
SKV_ENTITY_PROTOS(payment_method, payment_methods)

/* PROMO.CREATE / PITCH.CREATE with COST coins (0: none). */
SKV_API skv_status skv_create_paid_promotion_campaign(skv_client *c, const char *uid, const json_t *doc,
                                                      long long cost, char id[SKV_ID_SIZE], skv_error *err);
SKV_API skv_status skv_create_paid_pitching_submission(skv_client *c, const char *uid, const json_t *doc,
                                                       long long cost, char id[SKV_ID_SIZE], skv_error *err);
SKV_API skv_status skv_promote_concert(skv_client *c, const char *uid, const char *id, long long *changed,
                                       skv_error *err);
SKV_API skv_status skv_unpromote_concert(skv_client *c, const char *uid, const char *id, long long *changed,
                                         skv_error *err);
SKV_API skv_status skv_get_promoted_concerts(skv_client *c, const skv_page *page, json_t **list, skv_error *err);
SKV_API skv_status skv_promote_news(skv_client *c, const char *uid, const char *id, long long *changed,
                                    skv_error *err);
SKV_API skv_status skv_unpromote_news(skv_client *c, const char *uid, const char *id, long long *changed,
                                      skv_error *err);
SKV_API skv_status skv_get_promoted_news(skv_client *c, const skv_page *page, json_t **list, skv_error *err);
SKV_API skv_status skv_get_active_banners(skv_client *c, const skv_page *page, json_t **list, skv_error *err);

/* Coins (§4.3). Money-moving helpers are sent with an IDEMP key: a retry
 * after a lost reply is applied once. */
SKV_API skv_status skv_get_balance(skv_client *c, const char *uid, long long *balance, skv_error *err);
SKV_API skv_status skv_add_coins(skv_client *c, const char *uid, long long amount, const char *reason,
                                 long long *balance, skv_error *err);
/* SKV_INSUFFICIENT_FUNDS when the balance is short; nothing changes then. */
SKV_API skv_status skv_spend_coins(skv_client *c, const char *uid, long long amount, const char *reason,
                                   long long *balance, skv_error *err);
SKV_API skv_status skv_transfer_coins(skv_client *c, const char *from, const char *to, long long amount,
                                      const char *reason, long long *from_balance, long long *to_balance,
                                      skv_error *err);
SKV_API skv_status skv_get_coin_history(skv_client *c, const char *uid, const skv_page *page, json_t **list,
                                        skv_error *err);
/* SKV_OK, or SKV_ERR naming the broken invariant in err->msg. */
SKV_API skv_status skv_verify_coins(skv_client *c, const char *uid, skv_error *err);

/* Donations and payments (§4.4). message may be NULL; credit 0: none. */
SKV_API skv_status skv_send_donation(skv_client *c, const char *from, const char *to, long long amount,
                                     const char *message, char id[SKV_ID_SIZE], skv_error *err);
SKV_API skv_status skv_get_donations(skv_client *c, const char *uid, const skv_page *page, json_t **list,
                                     skv_error *err);
SKV_API skv_status skv_get_donation_total(skv_client *c, const char *uid, long long *total, skv_error *err);
SKV_API skv_status skv_record_payment(skv_client *c, const char *uid, const json_t *doc, long long credit,
                                      char id[SKV_ID_SIZE], skv_error *err);
SKV_API skv_status skv_get_payments(skv_client *c, const char *uid, const skv_page *page, json_t **list,
                                    skv_error *err);
/* The payment document, or NULL. */
SKV_API skv_status skv_get_payment(skv_client *c, const char *uid, const char *id, json_t **doc, skv_error *err);
/* PAYMENT.STATUS (sent with an IDEMP key): status "pending", "succeeded",
 * "failed" or "refunded"; the new document. A refund takes the credited
 * coins back: SKV_INSUFFICIENT_FUNDS when they were spent (nothing
 * changes); SKV_INVALID for a move that is not allowed. */
SKV_API skv_status skv_update_payment_status(skv_client *c, const char *uid, const char *id, const char *status,
                                             json_t **doc, skv_error *err);
/* The donation the artist uid received, or NULL. */
SKV_API skv_status skv_get_donation(skv_client *c, const char *uid, const char *id, json_t **doc, skv_error *err);
/* The donations uid sent (the artists' records), newest first. */
SKV_API skv_status skv_get_sent_donations(skv_client *c, const char *uid, const skv_page *page, json_t **list,
                                          skv_error *err);

/* Conversations (§4.5). */
SKV_API skv_status skv_send_message(skv_client *c, const char *conv, const char *from, const char *to,
                                    const char *text, char id[SKV_ID_SIZE], skv_error *err);
SKV_API skv_status skv_get_messages(skv_client *c, const char *conv, const skv_page *page, json_t **list,
                                    skv_error *err);
SKV_API skv_status skv_mark_as_read(skv_client *c, const char *conv, const char *uid, long long *changed,
                                    skv_error *err);
SKV_API skv_status skv_get_conversations(skv_client *c, const char *uid, const skv_page *page, json_t **list,
                                         skv_error *err);
SKV_API skv_status skv_get_unread_message_count(skv_client *c, const char *uid, long long *n, skv_error *err);
/* uid's own message only: *deleted 1, or 0 when missing or another's. */
SKV_API skv_status skv_delete_message(skv_client *c, const char *conv, const char *uid, const char *id,
                                      long long *deleted, skv_error *err);
/* uid's own message only (SKV_NOTFOUND otherwise): the new document, with
 * "edited_at". */
SKV_API skv_status skv_edit_message(skv_client *c, const char *conv, const char *uid, const char *id,
                                    const char *text, json_t **doc, skv_error *err);
/* MSG.CONVERSATION: {"conversation", "messages" (the newest limit, 0: 50),
 * "unread"} for uid, or NULL when conv is absent or not uid's. */
SKV_API skv_status skv_get_conversation(skv_client *c, const char *conv, const char *uid, int limit, json_t **doc,
                                        skv_error *err);

/* Notifications (§4.5). */
SKV_API skv_status skv_create_notification(skv_client *c, const char *uid, const json_t *doc,
                                           char id[SKV_ID_SIZE], skv_error *err);
SKV_API skv_status skv_get_notifications(skv_client *c, const char *uid, const skv_page *page, int unread_only,
                                         json_t **list, skv_error *err);
SKV_API skv_status skv_mark_notification_as_read(skv_client *c, const char *uid, const char *id,
                                                 long long *changed, skv_error *err);
SKV_API skv_status skv_mark_all_notifications_as_read(skv_client *c, const char *uid, long long *changed,
                                                      skv_error *err);
SKV_API skv_status skv_get_unread_count(skv_client *c, const char *uid, long long *n, skv_error *err);
SKV_API skv_status skv_delete_notification(skv_client *c, const char *uid, const char *id, long long *deleted,
                                           skv_error *err);

/* E-mail (§4.5). */
SKV_API skv_status skv_subscribe_email(skv_client *c, const char *uid, const char *list, long long *changed,
                                       skv_error *err);
SKV_API skv_status skv_unsubscribe_email(skv_client *c, const char *uid, const char *list, long long *changed,
                                         skv_error *err);
/* An array of list names in byte order. */
SKV_API skv_status skv_get_email_subscriptions(skv_client *c, const char *uid, json_t **lists, skv_error *err);
SKV_API skv_status skv_log_email(skv_client *c, const char *uid, const json_t *doc, char id[SKV_ID_SIZE],
                                 skv_error *err);
SKV_API skv_status skv_get_email_history(skv_client *c, const char *uid, const skv_page *page, json_t **list,
                                         skv_error *err);

/* Support tickets (§4.5). */
SKV_API skv_status skv_open_ticket(skv_client *c, const char *uid, const json_t *doc, char id[SKV_ID_SIZE],
                                   skv_error *err);
SKV_API skv_status skv_reply_ticket(skv_client *c, const char *ticket, const char *author, const char *text,
                                    char id[SKV_ID_SIZE], skv_error *err);
/* The ticket with its "messages", or NULL. */
SKV_API skv_status skv_get_ticket(skv_client *c, const char *ticket, json_t **doc, skv_error *err);
SKV_API skv_status skv_get_user_tickets(skv_client *c, const char *uid, const skv_page *page, json_t **list,
                                        skv_error *err);
SKV_API skv_status skv_close_ticket(skv_client *c, const char *ticket, long long *changed, skv_error *err);
SKV_API skv_status skv_reopen_ticket(skv_client *c, const char *ticket, long long *changed, skv_error *err);
/* TICKET.OPEN.LIST (admin): every open ticket, newest first. */
SKV_API skv_status skv_get_open_tickets(skv_client *c, const skv_page *page, json_t **list, skv_error *err);

/* Settings (§4.6). section: profile, security, notifications, privacy,
 * payment_methods. */
SKV_API skv_status skv_get_settings(skv_client *c, const char *uid, const char *section, json_t **doc,
                                    skv_error *err);
SKV_API skv_status skv_update_settings(skv_client *c, const char *uid, const char *section, const json_t *patch,
                                       json_t **doc, skv_error *err);

/* Analytics (§4.6). kind: "tracks" or "concerts"; date YYYY-MM-DD; n >= 1.
 * ANALYTICS.INCR is not safe to repeat: it is sent once. */
SKV_API skv_status skv_increment_analytics(skv_client *c, const char *kind, const char *id, const char *date,
                                           const char *field, long long n, long long *value, skv_error *err);
/* The days from..to that hold data, ascending: [{"date", field...}]. */
SKV_API skv_status skv_get_analytics(skv_client *c, const char *kind, const char *id, const char *from,
                                     const char *to, json_t **days, skv_error *err);
SKV_API skv_status skv_get_dashboard(skv_client *c, const char *uid, json_t **doc, skv_error *err);

#ifdef __cplusplus
}
#endif

#endif
