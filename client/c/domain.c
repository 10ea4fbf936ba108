/* Typed helpers for the domain commands of SPEC §4, one per platform
 * helper. Each builds an argv, sends it under the retry policy (the server's
 * flags decide; creating and money-moving commands get an IDEMP key in
 * client.c) and converts the reply. Absent documents are NULL with SKV_OK,
 * absent owners an empty array: the server already answers that way, so
 * nothing here turns an error into "absent". */
#include "skv_int.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>

/* ---- building and running ------------------------------------------------------------ */

/* Starts a builder with the NULL-terminated string arguments given. */
static void args(skv_args *a, const char *name, ...) {
    va_list ap;
    const char *s;
    skv__args_init(a);
    skv__args_str(a, name);
    va_start(ap, name);
    while ((s = va_arg(ap, const char *))) skv__args_str(a, s);
    va_end(ap);
}

static skv_status run_int(skv_client *c, skv_args *a, long long *out, skv_error *err) {
    redisReply *r;
    skv_status st = skv__args_run(c, a, &r, err);
    return st ? st : skv__take_int(r, out, err);
}

static skv_status run_ok(skv_client *c, skv_args *a, skv_error *err) {
    redisReply *r;
    skv_status st = skv__args_run(c, a, &r, err);
    return st ? st : skv__take_ok(r, err);
}

static skv_status run_id(skv_client *c, skv_args *a, char id[SKV_ID_SIZE], skv_error *err) {
    redisReply *r;
    if (id) id[0] = '\0';
    skv_status st = skv__args_run(c, a, &r, err);
    return st ? st : skv__take_id(r, id, 0, err);
}

static skv_status run_json(skv_client *c, skv_args *a, json_t **out, skv_error *err) {
    redisReply *r;
    assert(out);
    *out = NULL;
    skv_status st = skv__args_run(c, a, &r, err);
    return st ? st : skv__take_json(r, out, err);
}

static skv_status run_list(skv_client *c, skv_args *a, json_t **out, skv_error *err) {
    redisReply *r;
    assert(out);
    *out = NULL;
    skv_status st = skv__args_run(c, a, &r, err);
    return st ? st : skv__take_array(r, 0, out, err);
}

/* "NAME owner [AFTER id] [LIMIT n]" -> array of documents */
static skv_status list_of(skv_client *c, const char *name, const char *owner, const skv_page *page, json_t **out,
                          skv_error *err) {
    skv_args a;
    assert(c && owner);
    args(&a, name, owner, NULL);
    skv__args_page(&a, page);
    return run_list(c, &a, out, err);
}

/* "NAME [AFTER id] [LIMIT n]" -> array of documents (the lists of all owners) */
static skv_status list_all(skv_client *c, const char *name, const skv_page *page, json_t **out, skv_error *err) {
    skv_args a;
    assert(c);
    args(&a, name, NULL);
    skv__args_page(&a, page);
    return run_list(c, &a, out, err);
}

/* "NAME owner id" -> a document or NULL */
static skv_status doc_of(skv_client *c, const char *name, const char *owner, const char *id, json_t **out,
                         skv_error *err) {
    skv_args a;
    assert(c && owner && id);
    args(&a, name, owner, id, NULL);
    return run_json(c, &a, out, err);
}

/* "NAME owner id" -> integer */
static skv_status int_of_id(skv_client *c, const char *name, const char *owner, const char *id, long long *out,
                          skv_error *err) {
    skv_args a;
    assert(c && owner && id);
    args(&a, name, owner, id, NULL);
    return run_int(c, &a, out, err);
}

/* "NAME owner" -> integer */
static skv_status int_of(skv_client *c, const char *name, const char *owner, long long *out, skv_error *err) {
    skv_args a;
    assert(c && owner);
    args(&a, name, owner, NULL);
    return run_int(c, &a, out, err);
}

/* ---- users (§4.2) ----------------------------------------------------------------------- */

skv_status skv_create_user(skv_client *c, const char *uid, const json_t *base, skv_error *err) {
    skv_args a;
    assert(c && uid && base);
    args(&a, "USER.CREATE", uid, NULL);
    skv__args_json(&a, base);
    return run_ok(c, &a, err);
}

skv_status skv_get_user(skv_client *c, const char *uid, json_t **user, skv_error *err) {
    skv_args a;
    assert(c && uid);
    args(&a, "USER.GET", uid, NULL);
    return run_json(c, &a, user, err);
}

skv_status skv_update_user(skv_client *c, const char *uid, const char *section, const json_t *patch,
                           json_t **updated, skv_error *err) {
    skv_args a;
    assert(c && uid && section && patch);
    args(&a, "USER.UPDATE", uid, section, NULL);
    skv__args_json(&a, patch);
    return run_json(c, &a, updated, err);
}

skv_status skv_delete_user(skv_client *c, const char *uid, long long *removed, skv_error *err) {
    return int_of(c, "USER.DELETE", uid, removed, err);
}

skv_status skv_get_uid_by_email(skv_client *c, const char *email, char uid[SKV_ID_SIZE], skv_error *err) {
    skv_args a;
    redisReply *r;
    assert(c && email && uid);
    uid[0] = '\0';
    args(&a, "USER.BYEMAIL", email, NULL);
    skv_status st = skv__args_run(c, &a, &r, err);
    return st ? st : skv__take_id(r, uid, 1, err);
}

skv_status skv_get_user_by_email(skv_client *c, const char *email, json_t **user, skv_error *err) {
    char uid[SKV_ID_SIZE];
    assert(user);
    *user = NULL;
    skv_status st = skv_get_uid_by_email(c, email, uid, err);
    if (st != SKV_OK || !uid[0]) return st;
    /* two reads: a user deleted in between reads as absent */
    return skv_get_user(c, uid, user, err);
}

skv_status skv_list_users(skv_client *c, const skv_page *page, json_t **list, skv_error *err) {
    return list_all(c, "USER.LIST", page, list, err);
}

/* ---- entities (§4.1): one table, one implementation --------------------------------------- */

static const struct entity {
    const char *ns;
    unsigned cost : 1;    /* CREATE takes COST coins */
    unsigned promote : 1; /* PROMOTE / UNPROMOTE / PROMOTED */
    unsigned feed : 1;    /* FEED: every document, all users */
} entities[] = {
    [SKV_TRACK] = {"TRACK", 0, 0, 1},  [SKV_VIDEO] = {"VIDEO", 0, 0, 1}, [SKV_CONCERT] = {"CONCERT", 0, 1, 1},
    [SKV_NEWS] = {"NEWS", 0, 1, 1},    [SKV_BANNER] = {"BANNER", 0, 0, 0}, [SKV_PROMO] = {"PROMO", 1, 0, 0},
    [SKV_PITCH] = {"PITCH", 1, 0, 0},  [SKV_PAYMETHOD] = {"PAYMETHOD", 0, 0, 0},
};

/* "TRACK" + ".CREATE" */
static const char *entity_cmd(char buf[32], skv_entity ns, const char *op) {
    assert((unsigned)ns < sizeof entities / sizeof entities[0]);
    snprintf(buf, 32, "%s.%s", entities[ns].ns, op);
    return buf;
}

skv_status skv_entity_create(skv_client *c, skv_entity ns, const char *uid, const json_t *doc, long long cost,
                             char id[SKV_ID_SIZE], skv_error *err) {
    skv_args a;
    char name[32];
    assert(c && uid && doc && cost >= 0);
    assert(cost == 0 || entities[ns].cost);
    args(&a, entity_cmd(name, ns, "CREATE"), uid, NULL);
    skv__args_json(&a, doc);
    if (cost > 0) {
        skv__args_str(&a, "COST");
        skv__args_ll(&a, cost);
    }
    return run_id(c, &a, id, err);
}

skv_status skv_entity_get(skv_client *c, skv_entity ns, const char *uid, const char *id, json_t **doc,
                          skv_error *err) {
    skv_args a;
    char name[32];
    assert(c && uid && id);
    args(&a, entity_cmd(name, ns, "GET"), uid, id, NULL);
    return run_json(c, &a, doc, err);
}

skv_status skv_entity_list(skv_client *c, skv_entity ns, const char *uid, const skv_page *page, json_t **list,
                           skv_error *err) {
    char name[32];
    return list_of(c, entity_cmd(name, ns, "LIST"), uid, page, list, err);
}

skv_status skv_entity_update(skv_client *c, skv_entity ns, const char *uid, const char *id, const json_t *patch,
                             json_t **doc, skv_error *err) {
    skv_args a;
    char name[32];
    assert(c && uid && id && patch);
    args(&a, entity_cmd(name, ns, "UPDATE"), uid, id, NULL);
    skv__args_json(&a, patch);
    return run_json(c, &a, doc, err);
}

skv_status skv_entity_delete(skv_client *c, skv_entity ns, const char *uid, const char *id, long long *deleted,
                             skv_error *err) {
    skv_args a;
    char name[32];
    assert(c && uid && id);
    args(&a, entity_cmd(name, ns, "DELETE"), uid, id, NULL);
    return run_int(c, &a, deleted, err);
}

skv_status skv_entity_count(skv_client *c, skv_entity ns, const char *uid, long long *n, skv_error *err) {
    char name[32];
    return int_of(c, entity_cmd(name, ns, "COUNT"), uid, n, err);
}

skv_status skv_entity_promote(skv_client *c, skv_entity ns, const char *uid, const char *id, int on,
                              long long *changed, skv_error *err) {
    skv_args a;
    char name[32];
    assert(c && uid && id && entities[ns].promote);
    args(&a, entity_cmd(name, ns, on ? "PROMOTE" : "UNPROMOTE"), uid, id, NULL);
    return run_int(c, &a, changed, err);
}

skv_status skv_entity_promoted(skv_client *c, skv_entity ns, const skv_page *page, json_t **list, skv_error *err) {
    skv_args a;
    char name[32];
    assert(c && (entities[ns].promote || ns == SKV_BANNER));
    args(&a, entity_cmd(name, ns, ns == SKV_BANNER ? "ACTIVE" : "PROMOTED"), NULL);
    skv__args_page(&a, page);
    return run_list(c, &a, list, err);
}

skv_status skv_get_feed(skv_client *c, skv_entity ns, const skv_page *page, json_t **list, skv_error *err) {
    char name[32];
    assert(c && (unsigned)ns < sizeof entities / sizeof entities[0] && entities[ns].feed);
    return list_all(c, entity_cmd(name, ns, "FEED"), page, list, err);
}

/* The platform's names, generated from one list so no namespace is typed twice. */
#define SKV_ENTITIES(X)                                                                                       \
    X(SKV_TRACK, track, tracks)                                                                               \
    X(SKV_VIDEO, video, videos)                                                                               \
    X(SKV_CONCERT, concert, concerts)                                                                         \
    X(SKV_NEWS, news, news)                                                                                   \
    X(SKV_BANNER, banner, banners)                                                                            \
    X(SKV_PROMO, promotion_campaign, promotion_campaigns)                                                     \
    X(SKV_PITCH, pitching_submission, pitching_submissions)                                                   \
    X(SKV_PAYMETHOD, payment_method, payment_methods)

#define SKV_ENTITY_DEFS(NS, one, many)                                                                        \
    skv_status skv_create_##one(skv_client *c, const char *uid, const json_t *doc, char id[SKV_ID_SIZE],      \
                                skv_error *err) {                                                             \
        return skv_entity_create(c, NS, uid, doc, 0, id, err);                                                \
    }                                                                                                         \
    skv_status skv_get_##one(skv_client *c, const char *uid, const char *id, json_t **doc, skv_error *err) {  \
        return skv_entity_get(c, NS, uid, id, doc, err);                                                      \
    }                                                                                                         \
    skv_status skv_get_user_##many(skv_client *c, const char *uid, const skv_page *page, json_t **list,       \
                                   skv_error *err) {                                                          \
        return skv_entity_list(c, NS, uid, page, list, err);                                                  \
    }                                                                                                         \
    skv_status skv_update_##one(skv_client *c, const char *uid, const char *id, const json_t *patch,          \
                                json_t **doc, skv_error *err) {                                               \
        return skv_entity_update(c, NS, uid, id, patch, doc, err);                                            \
    }                                                                                                         \
    skv_status skv_delete_##one(skv_client *c, const char *uid, const char *id, long long *deleted,           \
                                skv_error *err) {                                                             \
        return skv_entity_delete(c, NS, uid, id, deleted, err);                                               \
    }                                                                                                         \
    skv_status skv_count_user_##many(skv_client *c, const char *uid, long long *n, skv_error *err) {          \
        return skv_entity_count(c, NS, uid, n, err);                                                          \
    }

SKV_ENTITIES(SKV_ENTITY_DEFS)

skv_status skv_create_paid_promotion_campaign(skv_client *c, const char *uid, const json_t *doc, long long cost,
                                              char id[SKV_ID_SIZE], skv_error *err) {
    return skv_entity_create(c, SKV_PROMO, uid, doc, cost, id, err);
}

skv_status skv_create_paid_pitching_submission(skv_client *c, const char *uid, const json_t *doc, long long cost,
                                               char id[SKV_ID_SIZE], skv_error *err) {
    return skv_entity_create(c, SKV_PITCH, uid, doc, cost, id, err);
}

skv_status skv_promote_concert(skv_client *c, const char *uid, const char *id, long long *changed, skv_error *err) {
    return skv_entity_promote(c, SKV_CONCERT, uid, id, 1, changed, err);
}

skv_status skv_unpromote_concert(skv_client *c, const char *uid, const char *id, long long *changed,
                                 skv_error *err) {
    return skv_entity_promote(c, SKV_CONCERT, uid, id, 0, changed, err);
}

skv_status skv_get_promoted_concerts(skv_client *c, const skv_page *page, json_t **list, skv_error *err) {
    return skv_entity_promoted(c, SKV_CONCERT, page, list, err);
}

skv_status skv_promote_news(skv_client *c, const char *uid, const char *id, long long *changed, skv_error *err) {
    return skv_entity_promote(c, SKV_NEWS, uid, id, 1, changed, err);
}

skv_status skv_unpromote_news(skv_client *c, const char *uid, const char *id, long long *changed, skv_error *err) {
    return skv_entity_promote(c, SKV_NEWS, uid, id, 0, changed, err);
}

skv_status skv_get_promoted_news(skv_client *c, const skv_page *page, json_t **list, skv_error *err) {
    return skv_entity_promoted(c, SKV_NEWS, page, list, err);
}

skv_status skv_get_active_banners(skv_client *c, const skv_page *page, json_t **list, skv_error *err) {
    return skv_entity_promoted(c, SKV_BANNER, page, list, err);
}

/* ---- coins (§4.3) ------------------------------------------------------------------------- */

skv_status skv_get_balance(skv_client *c, const char *uid, long long *balance, skv_error *err) {
    return int_of(c, "COINS.BALANCE", uid, balance, err);
}

/* COINS.ADD|SPEND uid amount reason (IDEMP added by the policy) */
static skv_status coins_move(skv_client *c, const char *name, const char *uid, long long amount,
                             const char *reason, long long *balance, skv_error *err) {
    skv_args a;
    assert(c && uid && reason);
    args(&a, name, uid, NULL);
    skv__args_ll(&a, amount);
    skv__args_str(&a, reason);
    return run_int(c, &a, balance, err);
}

skv_status skv_add_coins(skv_client *c, const char *uid, long long amount, const char *reason, long long *balance,
                         skv_error *err) {
    return coins_move(c, "COINS.ADD", uid, amount, reason, balance, err);
}

skv_status skv_spend_coins(skv_client *c, const char *uid, long long amount, const char *reason,
                           long long *balance, skv_error *err) {
    return coins_move(c, "COINS.SPEND", uid, amount, reason, balance, err);
}

skv_status skv_transfer_coins(skv_client *c, const char *from, const char *to, long long amount,
                              const char *reason, long long *from_balance, long long *to_balance,
                              skv_error *err) {
    skv_args a;
    redisReply *r;
    assert(c && from && to && reason);
    args(&a, "COINS.TRANSFER", from, to, NULL);
    skv__args_ll(&a, amount);
    skv__args_str(&a, reason);
    skv_status st = skv__args_run(c, &a, &r, err);
    if (st != SKV_OK) return st;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_INTEGER ||
        r->element[1]->type != REDIS_REPLY_INTEGER) {
        st = skv__fail(err, SKV_PROTOCOL, "COINS.TRANSFER: expected [from_balance, to_balance]");
    } else {
        if (from_balance) *from_balance = r->element[0]->integer;
        if (to_balance) *to_balance = r->element[1]->integer;
    }
    freeReplyObject(r);
    return st;
}

skv_status skv_get_coin_history(skv_client *c, const char *uid, const skv_page *page, json_t **list,
                                skv_error *err) {
    return list_of(c, "COINS.HISTORY", uid, page, list, err);
}

skv_status skv_verify_coins(skv_client *c, const char *uid, skv_error *err) {
    skv_args a;
    assert(c && uid);
    args(&a, "COINS.VERIFY", uid, NULL);
    return run_ok(c, &a, err);
}

/* ---- donations and payments (§4.4) ---------------------------------------------------------- */

skv_status skv_send_donation(skv_client *c, const char *from, const char *to, long long amount,
                             const char *message, char id[SKV_ID_SIZE], skv_error *err) {
    skv_args a;
    assert(c && from && to);
    args(&a, "DONATION.SEND", from, to, NULL);
    skv__args_ll(&a, amount);
    if (message) {
        skv__args_str(&a, "MESSAGE");
        skv__args_str(&a, message);
    }
    return run_id(c, &a, id, err);
}

skv_status skv_get_donations(skv_client *c, const char *uid, const skv_page *page, json_t **list,
                             skv_error *err) {
    return list_of(c, "DONATION.LIST", uid, page, list, err);
}

skv_status skv_get_donation_total(skv_client *c, const char *uid, long long *total, skv_error *err) {
    return int_of(c, "DONATION.TOTAL", uid, total, err);
}

skv_status skv_record_payment(skv_client *c, const char *uid, const json_t *doc, long long credit,
                              char id[SKV_ID_SIZE], skv_error *err) {
    skv_args a;
    assert(c && uid && doc && credit >= 0);
    args(&a, "PAYMENT.RECORD", uid, NULL);
    skv__args_json(&a, doc);
    if (credit > 0) {
        skv__args_str(&a, "CREDIT");
        skv__args_ll(&a, credit);
    }
    return run_id(c, &a, id, err);
}

skv_status skv_get_payments(skv_client *c, const char *uid, const skv_page *page, json_t **list, skv_error *err) {
    return list_of(c, "PAYMENT.LIST", uid, page, list, err);
}

skv_status skv_get_payment(skv_client *c, const char *uid, const char *id, json_t **doc, skv_error *err) {
    return doc_of(c, "PAYMENT.GET", uid, id, doc, err);
}

skv_status skv_update_payment_status(skv_client *c, const char *uid, const char *id, const char *status,
                                     json_t **doc, skv_error *err) {
    skv_args a;
    assert(c && uid && id && status);
    args(&a, "PAYMENT.STATUS", uid, id, status, NULL);
    return run_json(c, &a, doc, err);
}

skv_status skv_get_donation(skv_client *c, const char *uid, const char *id, json_t **doc, skv_error *err) {
    return doc_of(c, "DONATION.GET", uid, id, doc, err);
}

skv_status skv_get_sent_donations(skv_client *c, const char *uid, const skv_page *page, json_t **list,
                                  skv_error *err) {
    return list_of(c, "DONATION.SENT", uid, page, list, err);
}

/* ---- conversations (§4.5) ---------------------------------------------------------------------- */

skv_status skv_send_message(skv_client *c, const char *conv, const char *from, const char *to, const char *text,
                            char id[SKV_ID_SIZE], skv_error *err) {
    skv_args a;
    assert(c && conv && from && to && text);
    args(&a, "MSG.SEND", conv, from, to, text, NULL);
    return run_id(c, &a, id, err);
}

skv_status skv_get_messages(skv_client *c, const char *conv, const skv_page *page, json_t **list, skv_error *err) {
    return list_of(c, "MSG.HISTORY", conv, page, list, err);
}

skv_status skv_mark_as_read(skv_client *c, const char *conv, const char *uid, long long *changed,
                            skv_error *err) {
    skv_args a;
    assert(c && conv && uid);
    args(&a, "MSG.READ", conv, uid, NULL);
    return run_int(c, &a, changed, err);
}

skv_status skv_get_conversations(skv_client *c, const char *uid, const skv_page *page, json_t **list,
                                 skv_error *err) {
    return list_of(c, "MSG.CONVERSATIONS", uid, page, list, err);
}

skv_status skv_get_unread_message_count(skv_client *c, const char *uid, long long *n, skv_error *err) {
    return int_of(c, "MSG.UNREAD", uid, n, err);
}

skv_status skv_delete_message(skv_client *c, const char *conv, const char *uid, const char *id,
                              long long *deleted, skv_error *err) {
    skv_args a;
    assert(c && conv && uid && id);
    args(&a, "MSG.DELETE", conv, uid, id, NULL);
    return run_int(c, &a, deleted, err);
}

skv_status skv_edit_message(skv_client *c, const char *conv, const char *uid, const char *id, const char *text,
                            json_t **doc, skv_error *err) {
    skv_args a;
    assert(c && conv && uid && id && text);
    args(&a, "MSG.EDIT", conv, uid, id, text, NULL);
    return run_json(c, &a, doc, err);
}

skv_status skv_get_conversation(skv_client *c, const char *conv, const char *uid, int limit, json_t **doc,
                                skv_error *err) {
    skv_args a;
    assert(c && conv && uid && limit >= 0);
    args(&a, "MSG.CONVERSATION", conv, uid, NULL);
    skv_page page = {NULL, limit};
    skv__args_page(&a, &page);
    return run_json(c, &a, doc, err);
}

/* ---- notifications (§4.5) ------------------------------------------------------------------------ */

skv_status skv_create_notification(skv_client *c, const char *uid, const json_t *doc, char id[SKV_ID_SIZE],
                                   skv_error *err) {
    skv_args a;
    assert(c && uid && doc);
    args(&a, "NOTIFY.CREATE", uid, NULL);
    skv__args_json(&a, doc);
    return run_id(c, &a, id, err);
}

skv_status skv_get_notifications(skv_client *c, const char *uid, const skv_page *page, int unread_only,
                                 json_t **list, skv_error *err) {
    skv_args a;
    assert(c && uid);
    args(&a, "NOTIFY.LIST", uid, NULL);
    skv__args_page(&a, page);
    if (unread_only) skv__args_str(&a, "UNREAD");
    return run_list(c, &a, list, err);
}

skv_status skv_mark_notification_as_read(skv_client *c, const char *uid, const char *id, long long *changed,
                                         skv_error *err) {
    skv_args a;
    assert(c && uid && id);
    args(&a, "NOTIFY.READ", uid, id, NULL);
    return run_int(c, &a, changed, err);
}

skv_status skv_mark_all_notifications_as_read(skv_client *c, const char *uid, long long *changed,
                                              skv_error *err) {
    return int_of(c, "NOTIFY.READALL", uid, changed, err);
}

skv_status skv_get_unread_count(skv_client *c, const char *uid, long long *n, skv_error *err) {
    return int_of(c, "NOTIFY.UNREAD", uid, n, err);
}

skv_status skv_delete_notification(skv_client *c, const char *uid, const char *id, long long *deleted,
                                   skv_error *err) {
    return int_of_id(c, "NOTIFY.DELETE", uid, id, deleted, err);
}

/* ---- e-mail (§4.5) --------------------------------------------------------------------------------- */

skv_status skv_subscribe_email(skv_client *c, const char *uid, const char *list, long long *changed,
                               skv_error *err) {
    skv_args a;
    assert(c && uid && list);
    args(&a, "EMAIL.SUBSCRIBE", uid, list, NULL);
    return run_int(c, &a, changed, err);
}

skv_status skv_unsubscribe_email(skv_client *c, const char *uid, const char *list, long long *changed,
                                 skv_error *err) {
    skv_args a;
    assert(c && uid && list);
    args(&a, "EMAIL.UNSUBSCRIBE", uid, list, NULL);
    return run_int(c, &a, changed, err);
}

skv_status skv_get_email_subscriptions(skv_client *c, const char *uid, json_t **lists, skv_error *err) {
    skv_args a;
    redisReply *r;
    assert(c && uid && lists);
    *lists = NULL;
    args(&a, "EMAIL.SUBSCRIPTIONS", uid, NULL);
    skv_status st = skv__args_run(c, &a, &r, err);
    return st ? st : skv__take_array(r, 1, lists, err);
}

skv_status skv_log_email(skv_client *c, const char *uid, const json_t *doc, char id[SKV_ID_SIZE], skv_error *err) {
    skv_args a;
    assert(c && uid && doc);
    args(&a, "EMAIL.LOG", uid, NULL);
    skv__args_json(&a, doc);
    return run_id(c, &a, id, err);
}

skv_status skv_get_email_history(skv_client *c, const char *uid, const skv_page *page, json_t **list,
                                 skv_error *err) {
    return list_of(c, "EMAIL.HISTORY", uid, page, list, err);
}

/* ---- support tickets (§4.5) -------------------------------------------------------------------------- */

skv_status skv_open_ticket(skv_client *c, const char *uid, const json_t *doc, char id[SKV_ID_SIZE],
                           skv_error *err) {
    skv_args a;
    assert(c && uid && doc);
    args(&a, "TICKET.OPEN", uid, NULL);
    skv__args_json(&a, doc);
    return run_id(c, &a, id, err);
}

skv_status skv_reply_ticket(skv_client *c, const char *ticket, const char *author, const char *text,
                            char id[SKV_ID_SIZE], skv_error *err) {
    skv_args a;
    assert(c && ticket && author && text);
    args(&a, "TICKET.REPLY", ticket, author, text, NULL);
    return run_id(c, &a, id, err);
}

skv_status skv_get_ticket(skv_client *c, const char *ticket, json_t **doc, skv_error *err) {
    skv_args a;
    assert(c && ticket);
    args(&a, "TICKET.GET", ticket, NULL);
    return run_json(c, &a, doc, err);
}

skv_status skv_get_user_tickets(skv_client *c, const char *uid, const skv_page *page, json_t **list,
                                skv_error *err) {
    return list_of(c, "TICKET.LIST", uid, page, list, err);
}

skv_status skv_close_ticket(skv_client *c, const char *ticket, long long *changed, skv_error *err) {
    return int_of(c, "TICKET.CLOSE", ticket, changed, err);
}

skv_status skv_reopen_ticket(skv_client *c, const char *ticket, long long *changed, skv_error *err) {
    return int_of(c, "TICKET.REOPEN", ticket, changed, err);
}

skv_status skv_get_open_tickets(skv_client *c, const skv_page *page, json_t **list, skv_error *err) {
    return list_all(c, "TICKET.OPEN.LIST", page, list, err);
}

/* ---- settings, analytics, dashboard (§4.6) --------------------------------------------------------------- */

skv_status skv_get_settings(skv_client *c, const char *uid, const char *section, json_t **doc, skv_error *err) {
    skv_args a;
    assert(c && uid && section);
    args(&a, "SETTINGS.GET", uid, section, NULL);
    return run_json(c, &a, doc, err);
}

skv_status skv_update_settings(skv_client *c, const char *uid, const char *section, const json_t *patch,
                               json_t **doc, skv_error *err) {
    skv_args a;
    assert(c && uid && section && patch);
    args(&a, "SETTINGS.SET", uid, section, NULL);
    skv__args_json(&a, patch);
    return run_json(c, &a, doc, err);
}

skv_status skv_increment_analytics(skv_client *c, const char *kind, const char *id, const char *date,
                                   const char *field, long long n, long long *value, skv_error *err) {
    skv_args a;
    assert(c && kind && id && date && field && n >= 1);
    args(&a, "ANALYTICS.INCR", kind, id, date, field, NULL);
    skv__args_ll(&a, n);
    return run_int(c, &a, value, err);
}

skv_status skv_get_analytics(skv_client *c, const char *kind, const char *id, const char *from, const char *to,
                             json_t **days, skv_error *err) {
    skv_args a;
    assert(c && kind && id && from && to);
    args(&a, "ANALYTICS.RANGE", kind, id, from, to, NULL);
    return run_list(c, &a, days, err);
}

skv_status skv_get_dashboard(skv_client *c, const char *uid, json_t **doc, skv_error *err) {
    skv_args a;
    assert(c && uid);
    args(&a, "DASHBOARD.GET", uid, NULL);
    return run_json(c, &a, doc, err);
}
