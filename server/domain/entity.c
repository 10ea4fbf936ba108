/* The entity engine (SPEC §4.1): TRACK, VIDEO, CONCERT, NEWS, BANNER, PROMO,
 * PITCH and PAYMETHOD share one model driven by a table of namespaces (an
 * entity_ns each; the command rows carry it in cmd_def.data).
 *
 * Keys of a namespace with key prefix P, sub-prefix S and meta name M:
 *   data CF  P ":" uid ":" S id       the document (JSON object), e.g.
 *                                     tracks:u1:0190f3a1c2d40000,
 *                                     payments:u1:method:0190f3a1c2d40000
 *   meta CF  "count:" M ":" uid       i64: documents of uid (absent = 0),
 *                                     then, while they all have server
 *                                     ids, the lowest and highest id
 *                                     (u64 + u64): hints for the list
 *   meta CF  "owner:" M ":" id        uid: id -> owner (TRACK, CONCERT)
 *   meta CF  "feed:" M ":" id         uid: public index of the documents that
 *                                     match the namespace's index predicate
 *                                     (CONCERT/NEWS: "promoted": true;
 *                                     BANNER: "status": "active")
 *
 * Invariants, kept in the command's batch:
 * - count:M:{uid} = the number of documents under P:{uid}:S (create +1,
 *   delete -1; never below 0).
 * - owner:M:{id} = uid for every TRACK and CONCERT document (the analytics
 *   rows are keyed by the id alone).
 * - feed:M:{id} = uid exactly for the documents that match the namespace's
 *   index: CONCERT and NEWS with "promoted": true (set by PROMOTE, cleared
 *   by UNPROMOTE, or written by CREATE/UPDATE like any field), BANNER with
 *   "status": "active". The hooks below follow every create, update and
 *   delete, so the feed never names a missing document.
 * - all:M:{id} = uid for every document of TRACK, VIDEO, CONCERT and NEWS
 *   (the namespaces whose table row lists entity_all_hooks): the public
 *   feed of every user's documents, newest first (TRACK.FEED & co). One
 *   generic hook pair keeps it on create and delete (USER.DELETE runs the
 *   delete hooks per document). Documents created before the feed existed
 *   are not in it (it can be rebuilt from the documents).
 * - the analytics rows of a TRACK or CONCERT (analytics:M:{id}:..., owned
 *   by the analytics model) go with its document (a delete hook).
 * Counters, the owner index and the feeds are derived from the documents
 * (the promoted state is the document's "promoted" field), so they can be
 * rebuilt from them. The feeds are ordered by id, so PROMOTED and ACTIVE
 * list the documents in creation order, newest first (not by promotion
 * time).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analytics.h"
#include "entity.h"
#include "json.h"
#include "ledger.h"

#define UID_BUF (DOM_ID_MAX + 1)

/* ---- derived data: hooks ------------------------------------------------ */

/* owner:M:{id} -> uid */
static int owner_on_create(struct dom_engine *e, const entity_ns *ns, const char *uid, const char *id,
                           const json_t *old_doc, const json_t *new_doc) {
    (void)old_doc;
    (void)new_doc;
    dkey k;
    entity_key_owner(&k, ns, id);
    meta_put(e->ks, &k, uid, strlen(uid));
    return 0;
}

static int owner_on_delete(struct dom_engine *e, const entity_ns *ns, const char *uid, const char *id,
                           const json_t *old_doc, const json_t *new_doc) {
    (void)uid;
    (void)old_doc;
    (void)new_doc;
    dkey k;
    entity_key_owner(&k, ns, id);
    meta_del(e->ks, &k);
    return 0;
}

static const entity_hooks owner_hooks = {owner_on_create, NULL, owner_on_delete};

/* feed:M:{id} -> uid, for the documents matching ns->index */
static int index_matches(const entity_index *ix, const json_t *doc) {
    const json_t *v = doc ? json_object_get(doc, ix->field) : NULL;
    if (!v) return 0;
    if (!ix->equals) return json_is_true(v);
    return json_is_string(v) && strcmp(json_string_value(v), ix->equals) == 0 &&
           json_string_length(v) == strlen(ix->equals);
}

static int index_on_write(struct dom_engine *e, const entity_ns *ns, const char *uid, const char *id,
                          const json_t *old_doc, const json_t *new_doc) {
    int was = index_matches(ns->index, old_doc), is = index_matches(ns->index, new_doc);
    if (was == is) return 0;
    dkey k;
    entity_key_feed(&k, ns, id);
    if (is) meta_put(e->ks, &k, uid, strlen(uid));
    else meta_del(e->ks, &k);
    return 0;
}

/* A delete always drops the entry: the feed cannot outlive its document,
 * even if it was ever out of step with it. */
static int index_on_delete(struct dom_engine *e, const entity_ns *ns, const char *uid, const char *id,
                           const json_t *old_doc, const json_t *new_doc) {
    (void)uid;
    (void)old_doc;
    (void)new_doc;
    dkey k;
    entity_key_feed(&k, ns, id);
    meta_del(e->ks, &k);
    return 0;
}

static const entity_hooks index_hooks = {index_on_write, index_on_write, index_on_delete};

/* The analytics rows keyed by the id (TRACK, CONCERT): the analytics model
 * removes them; ns->meta is the analytics kind ("tracks", "concerts"). */
static int analytics_on_delete(struct dom_engine *e, const entity_ns *ns, const char *uid, const char *id,
                               const json_t *old_doc, const json_t *new_doc) {
    (void)uid;
    (void)old_doc;
    (void)new_doc;
    return analytics_purge_entity(e, ns->meta, id);
}

static const entity_hooks analytics_hooks = {NULL, NULL, analytics_on_delete};

/* all:M:{id} -> uid, for every document of the namespaces that list it */

static int all_on_create(struct dom_engine *e, const entity_ns *ns, const char *uid, const char *id, const json_t *old_doc,
                         const json_t *new_doc) {
    (void)old_doc;
    (void)new_doc;
    dkey k;
    entity_key_all(&k, ns, id);
    meta_put(e->ks, &k, uid, strlen(uid));
    return 0;
}

static int all_on_delete(struct dom_engine *e, const entity_ns *ns, const char *uid, const char *id, const json_t *old_doc,
                         const json_t *new_doc) {
    (void)uid;
    (void)old_doc;
    (void)new_doc;
    dkey k;
    entity_key_all(&k, ns, id);
    meta_del(e->ks, &k);
    return 0;
}

const entity_hooks entity_all_hooks = {all_on_create, NULL, all_on_delete};

/* ---- the namespace table -------------------------------------------------- */

static const entity_index promoted_index = {"promoted", NULL};
static const entity_index active_index = {"status", "active"};

const entity_ns entity_ns_track = {.name = "track", .prefix = "tracks", .sub = "", .meta = "tracks",
                                   .table = "tracks", .hooks = {&owner_hooks, &analytics_hooks, &entity_all_hooks}};
const entity_ns entity_ns_video = {.name = "video", .prefix = "videos", .sub = "", .meta = "videos",
                                   .table = "videos", .hooks = {&entity_all_hooks}};
const entity_ns entity_ns_concert = {.name = "concert", .prefix = "concerts", .sub = "", .meta = "concerts",
                                     .table = "concerts", .index = &promoted_index,
                                     .hooks = {&owner_hooks, &index_hooks, &analytics_hooks, &entity_all_hooks}};
const entity_ns entity_ns_news = {.name = "news", .prefix = "news", .sub = "", .meta = "news", .table = "news",
                                  .index = &promoted_index, .hooks = {&index_hooks, &entity_all_hooks}};
const entity_ns entity_ns_banner = {.name = "banner", .prefix = "banners", .sub = "", .meta = "banners",
                                    .table = "banner_ads", .index = &active_index, .hooks = {&index_hooks}};
const entity_ns entity_ns_promo = {.name = "promo", .prefix = "promotion", .sub = "", .meta = "promotion",
                                   .table = "promotion_campaigns", .cost_reason = "cost:PROMO"};
const entity_ns entity_ns_pitch = {.name = "pitch", .prefix = "pitching", .sub = "", .meta = "pitching",
                                   .table = "pitching_submissions", .cost_reason = "cost:PITCH"};
/* payments:{uid}:method:{id}; the meta name is the SQL table's, since
 * "payments" also holds the payment transactions (PAYMENT.*). */
const entity_ns entity_ns_paymethod = {.name = "paymethod", .prefix = "payments", .sub = "method:",
                                       .meta = "payment_methods", .table = "payment_methods"};

static const entity_ns *const namespaces[] = {
    &entity_ns_track, &entity_ns_video, &entity_ns_concert, &entity_ns_news,      &entity_ns_banner,
    &entity_ns_promo, &entity_ns_pitch, &entity_ns_paymethod, NULL,
};

const entity_ns *entity_ns_at(size_t idx) {
    return idx < sizeof namespaces / sizeof namespaces[0] ? namespaces[idx] : NULL;
}

const entity_ns *entity_ns_find(const char *name) {
    for (const entity_ns *const *n = namespaces; *n; n++)
        if (strcasecmp((*n)->name, name) == 0) return *n;
    return NULL;
}

/* What DOMAIN.CHECK/REBUILD (rebuild.c) derive for a document of ns: the
 * same predicates the hooks above follow. */
int entity_index_matches(const entity_ns *ns, const json_t *doc) { return ns->index && index_matches(ns->index, doc); }

static int has_hooks(const entity_ns *ns, const entity_hooks *want) {
    for (const entity_hooks *const *h = ns->hooks; *h; h++)
        if (*h == want) return 1;
    return 0;
}

int entity_keeps_owner(const entity_ns *ns) { return has_hooks(ns, &owner_hooks); }
int entity_keeps_all(const entity_ns *ns) { return has_hooks(ns, &entity_all_hooks); }

/* ---- keys and shared steps ------------------------------------------------- */

void entity_key_doc(dkey *k, const entity_ns *ns, const char *uid, const char *id) {
    DOM_ASSERT_ID(uid);
    DOM_ASSERT_ID(id);
    dkey_fmt(k, "%s:%s:%s%s", ns->prefix, uid, ns->sub, id);
}

void entity_key_user(dkey *k, const entity_ns *ns, const char *uid) {
    DOM_ASSERT_ID(uid);
    dkey_fmt(k, "%s:%s:%s", ns->prefix, uid, ns->sub);
}

void entity_key_count(dkey *k, const entity_ns *ns, const char *uid) {
    DOM_ASSERT_ID(uid);
    dkey_fmt(k, "count:%s:%s", ns->meta, uid);
}

void entity_key_owner(dkey *k, const entity_ns *ns, const char *id) {
    DOM_ASSERT_ID(id);
    dkey_fmt(k, "owner:%s:%s", ns->meta, id);
}

void entity_key_feed(dkey *k, const entity_ns *ns, const char *id) {
    DOM_ASSERT_ID(id);
    dkey_fmt(k, "feed:%s:%s", ns->meta, id);
}

void entity_key_feed_index(dkey *k, const entity_ns *ns) { dkey_fmt(k, "feed:%s:", ns->meta); }

void entity_key_all(dkey *k, const entity_ns *ns, const char *id) {
    DOM_ASSERT_ID(id);
    dkey_fmt(k, "all:%s:%s", ns->meta, id);
}

void entity_key_all_index(dkey *k, const entity_ns *ns) { dkey_fmt(k, "all:%s:", ns->meta); }

/* The count record: n, and the hint ids (0 when it has none). A newest-
 * first page of a long list guesses from them where its entries start
 * (domain_list.c), which spares it two seeks for the range's ends. They
 * are hints, not facts: a delete leaves them as they were (stale bounds
 * cost the walk time, never an entry), and a document whose id is not a
 * server id drops them until DOMAIN.REBUILD sets them again. */
static int count_get(struct dom_engine *e, const dkey *k, int64_t *n, uint64_t *first, uint64_t *last) {
    store_val v;
    int r = meta_get(e->ks, k, &v);
    if (r < 0) return -1;
    entity_count_decode(r ? v.ptr : NULL, r ? v.len : 0, n, first, last);
    if (r) store_val_free(&v);
    return 0;
}

void entity_count_decode(const char *v, size_t vl, int64_t *n, uint64_t *first, uint64_t *last) {
    *n = 0;
    *first = *last = 0;
    if (vl != ENTITY_COUNT_LEN && vl != ENTITY_COUNT_HINTED_LEN) return; /* absent, or not a count */
    *n = (int64_t)enc_get_u64(v);
    if (vl == ENTITY_COUNT_HINTED_LEN) {
        *first = enc_get_u64(v + 8);
        *last = enc_get_u64(v + 16);
    }
}

size_t entity_count_encode(char out[ENTITY_COUNT_HINTED_LEN], int64_t n, uint64_t first, uint64_t last) {
    enc_put_u64(out, (uint64_t)n);
    if (!first || !last) return ENTITY_COUNT_LEN;
    enc_put_u64(out + 8, first);
    enc_put_u64(out + 16, last);
    return ENTITY_COUNT_HINTED_LEN;
}

/* Adds delta to the counter of uid, never below 0; a document added (id)
 * widens the hints, or drops them when its id is not a server id. */
static int count_add(struct dom_engine *e, const entity_ns *ns, const char *uid, int64_t delta, const char *id) {
    dkey k;
    int64_t n;
    uint64_t first, last, v;
    entity_key_count(&k, ns, uid);
    if (count_get(e, &k, &n, &first, &last) < 0) return -1;
    int64_t was = n;
    n = n + delta < 0 ? 0 : n + delta;
    if (n == 0) {
        meta_del(e->ks, &k);
        return 0;
    }
    if (delta > 0) {
        if (!dom_server_id_value(id, strlen(id), &v)) first = last = 0;
        else if (was == 0) first = last = v; /* the first document: the hints start */
        else if (first) {
            if (v < first) first = v;
            if (v > last) last = v;
        }
    }
    char b[ENTITY_COUNT_HINTED_LEN];
    meta_put(e->ks, &k, b, entity_count_encode(b, n, first, last));
    return 0;
}

int entity_count(struct dom_engine *e, const entity_ns *ns, const char *uid, int64_t *out) {
    uint64_t first, last;
    return entity_count_hints(e, ns, uid, out, &first, &last);
}

int entity_count_hints(struct dom_engine *e, const entity_ns *ns, const char *uid, int64_t *n, uint64_t *first,
                       uint64_t *last) {
    dkey k;
    entity_key_count(&k, ns, uid);
    return count_get(e, &k, n, first, last);
}

enum hook_kind { HOOK_CREATE, HOOK_UPDATE, HOOK_DELETE };

static int run_hooks(struct dom_engine *e, const entity_ns *ns, enum hook_kind kind, const char *uid, const char *id,
                     const json_t *old_doc, const json_t *new_doc) {
    for (const entity_hooks *const *h = ns->hooks; *h; h++) {
        entity_hook fn = kind == HOOK_CREATE   ? (*h)->on_create
                         : kind == HOOK_UPDATE ? (*h)->on_update
                                               : (*h)->on_delete;
        if (fn && fn(e, ns, uid, id, old_doc, new_doc) < 0) return -1;
    }
    return 0;
}

static int needs_old_doc(const entity_ns *ns) { return ns->hooks[0] != NULL; }

/* Loads a stored document: 1 found (*out, an object), 0 absent, -1. */
static int load_doc(struct dom_engine *e, const dkey *k, json_t **out) {
    int failed;
    json_t *doc = dom_get_doc(e->ks, k, &failed);
    if (failed) return -1;
    if (!doc) return 0;
    if (!json_is_object(doc)) {
        json_decref(doc);
        return dom_fail(e, ST_ERR, "stored document at '%.*s' is not a JSON object", (int)k->len, k->buf);
    }
    *out = doc;
    return 1;
}

/* Applies a merge patch to the stored document doc (consumed), stamps it,
 * writes it and runs the update hooks. *text gets the encoded document
 * (malloc()ed, *tl bytes) when text is not NULL. 0 ok, -1. */
static int patch_doc(struct dom_engine *e, const entity_ns *ns, const char *uid, const char *id, const dkey *k,
                     json_t *doc, json_t *patch, char **text, size_t *tl) {
    int rc = -1;
    char *enc = NULL;
    size_t len = 0;
    json_t *old = needs_old_doc(ns) ? json_deep_copy(doc) : NULL;
    if (needs_old_doc(ns) && !old) goto oom;
    if (json_merge_patch(doc, patch) != doc) goto oom; /* both objects: patched in place */
    dom_stamp_update(doc);
    if (!(enc = json_encode(doc, &len))) goto oom;
    if ((long long)len > dom_max_document_size(e)) {
        dom_fail(e, ST_INVALID, "document too large after the patch (max %lld bytes)", dom_max_document_size(e));
        goto out;
    }
    if (dom_put_raw(e->ks, k, enc, len, 1) < 0 || run_hooks(e, ns, HOOK_UPDATE, uid, id, old, doc) < 0) goto out;
    if (text) {
        *text = enc;
        *tl = len;
        enc = NULL;
    }
    rc = 0;
    goto out;
oom:
    dom_fail(e, ST_NOMEM, "out of memory");
out:
    free(enc);
    json_decref(old);
    json_decref(doc);
    return rc;
}

int entity_delete(struct dom_engine *e, const entity_ns *ns, const char *uid, const char *id) {
    dkey k;
    entity_key_doc(&k, ns, uid, id);
    json_t *old = NULL;
    if (needs_old_doc(ns)) {
        db_value v;
        int r = dom_get_raw(e->ks, &k, &v);
        if (r <= 0) return r;
        char err[256];
        old = json_parse_any(v.v.payload, v.v.len, err, sizeof err); /* NULL: not JSON */
        db_value_free(&v);
    }
    int r = dom_del(e->ks, &k);
    if (r == 1 && (count_add(e, ns, uid, -1, id) < 0 || run_hooks(e, ns, HOOK_DELETE, uid, id, old, NULL) < 0)) r = -1;
    json_decref(old);
    return r;
}

/* Every document of uid in ns with its derived data: hooks per document,
 * the documents as one prefix delete, the counter. */
static int purge_ns(struct dom_engine *e, const entity_ns *ns, const char *uid, int64_t *removed) {
    dkey p, k;
    entity_key_user(&p, ns, uid);
    if (needs_old_doc(ns)) {
        /* Hooks per document, in chunks: no write while an iterator is open. */
        enum { CHUNK = 128 };
        char ids[CHUNK][UID_BUF];
        json_t *docs[CHUNK];
        size_t last_len = 0;
        for (;;) {
            int n = 0, r;
            db_iter it;
            const char *key;
            size_t kl;
            enc_value v;
            db_iter_open(&it, e->ks, 0, p.buf, p.len);
            if (last_len) db_iter_seek(&it, p.buf, p.len + last_len, 1); /* p.buf holds prefix + last id */
            while ((r = db_iter_next(&it, &key, &kl, &v)) == 1) {
                size_t il = kl - p.len;
                if (!dom_valid_id(key + p.len, il)) continue; /* not an engine document: the prefix delete takes it */
                char err[256];
                memcpy(ids[n], key + p.len, il);
                ids[n][il] = 0;
                docs[n] = json_parse_any(v.payload, v.len, err, sizeof err); /* NULL: not JSON */
                if (++n == CHUNK) break;
            }
            db_iter_close(&it);
            if (n) {
                last_len = strlen(ids[n - 1]);
                memcpy(p.buf + p.len, ids[n - 1], last_len);
            }
            int failed = 0;
            for (int i = 0; i < n; i++) {
                if (r >= 0 && !failed && run_hooks(e, ns, HOOK_DELETE, uid, ids[i], docs[i], NULL) < 0) failed = 1;
                json_decref(docs[i]);
            }
            if (failed) return -1;
            if (r < 0) return dom_fail(e, ST_ERR, "storage error while iterating");
            if (r == 0) break;
        }
    }
    int64_t n = db_delete_prefix(e->ks, 0, p.buf, p.len);
    if (n < 0) return -1;
    entity_key_count(&k, ns, uid);
    meta_del(e->ks, &k);
    *removed += n;
    return 0;
}

/* The counts come from the key count of database 0 rather than from the
 * documents' figure: the delete hooks (the analytics rows of tracks and
 * concerts) remove user-visible keys that the entity engine does not
 * count, and every one of them is removed data of this user. Nothing in
 * this step writes a data key. */
int entity_purge_user(struct dom_engine *e, const char *uid, int64_t *removed) {
    const entity_ns *ns;
    for (size_t i = 0; (ns = entity_ns_at(i)) != NULL; i++) {
        int64_t before = db_size(e->ks, 0), docs = 0;
        if (purge_ns(e, ns, uid, &docs) < 0) return -1;
        int64_t gone = before - db_size(e->ks, 0);
        *removed += gone > docs ? gone : docs;
    }
    return 0;
}

/* ---- model operations of the commands ------------------------------------------- */

int entity_create(struct dom_engine *e, const entity_ns *ns, const char *uid, json_t *doc, int64_t cost,
                  char id_out[DOM_ID_HEX + 1]) {
    if (cost && ledger_apply(e, uid, -cost, ns->cost_reason, NULL, NULL, NULL) < 0) return -1;
    uint64_t n = dom_new_id(e);
    dom_format_id(id_out, n);
    dom_stamp_new(doc, n, uid);
    dkey k;
    entity_key_doc(&k, ns, uid, id_out);
    if (dom_put_doc(e->ks, &k, doc, 0) < 0 || count_add(e, ns, uid, 1, id_out) < 0 ||
        run_hooks(e, ns, HOOK_CREATE, uid, id_out, NULL, doc) < 0)
        return -1;
    return 0;
}

/* 1 when the meta entry k names another owner than uid */
static int held_by_other(struct dom_engine *e, const dkey *k, const char *uid) {
    store_val v;
    int r = meta_get(e->ks, k, &v);
    if (r <= 0) return r;
    return !(v.len == strlen(uid) && memcmp(v.ptr, uid, v.len) == 0);
}

int entity_import(struct dom_engine *e, const entity_ns *ns, const char *uid, json_t *doc, const char *id) {
    dkey k, ix;
    entity_key_doc(&k, ns, uid, id);
    int r = db_exists(e->ks, 0, k.buf, k.len);
    if (r < 0) return -1;
    if (r) return dom_fail(e, ST_CONFLICT, "%s '%s' of '%s' exists", ns->name, id, uid);
    void (*const keys[])(dkey *, const entity_ns *, const char *) = {entity_key_owner, entity_key_all, entity_key_feed};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        keys[i](&ix, ns, id);
        if ((r = held_by_other(e, &ix, uid)) < 0) return -1;
        if (r) return dom_fail(e, ST_CONFLICT, "%s id '%s' belongs to another user", ns->name, id);
    }
    if (dom_see_id(e, id) < 0) return -1;
    char ts[32];
    dom_iso_time(ts, now_ms());
    json_object_set_new(doc, "id", json_string(id));
    json_object_set_new(doc, "user_id", json_string(uid));
    json_object_set_new(doc, "created_at", json_string(ts));
    json_object_set_new(doc, "updated_at", json_string(ts));
    if (dom_put_doc(e->ks, &k, doc, 0) < 0 || count_add(e, ns, uid, 1, id) < 0 ||
        run_hooks(e, ns, HOOK_CREATE, uid, id, NULL, doc) < 0)
        return -1;
    return 0;
}

int entity_get_raw(struct dom_engine *e, const entity_ns *ns, const char *uid, const char *id, db_value *v) {
    dkey k;
    entity_key_doc(&k, ns, uid, id);
    return dom_get_raw(e->ks, &k, v);
}

int entity_update(struct dom_engine *e, const entity_ns *ns, const char *uid, const char *id, json_t *patch,
                  char **text, size_t *tl) {
    dkey k;
    json_t *doc = NULL;
    entity_key_doc(&k, ns, uid, id);
    int r = load_doc(e, &k, &doc);
    if (r == 0) return dom_fail(e, ST_NOTFOUND, "%s '%s' of '%s'", ns->name, id, uid);
    if (r < 0) return -1;
    return patch_doc(e, ns, uid, id, &k, doc, patch, text, tl);
}

int entity_set_promoted(struct dom_engine *e, const entity_ns *ns, const char *uid, const char *id, int on) {
    dkey k;
    json_t *doc = NULL;
    entity_key_doc(&k, ns, uid, id);
    int r = load_doc(e, &k, &doc);
    if (r < 0) return -1;
    if (r == 0 || index_matches(ns->index, doc) == on) {
        json_decref(doc);
        return 0;
    }
    json_t *patch = json_pack("{sb}", ns->index->field, on);
    if (!patch) {
        json_decref(doc);
        return dom_fail(e, ST_NOMEM, "out of memory");
    }
    r = patch_doc(e, ns, uid, id, &k, doc, patch, NULL, NULL);
    json_decref(patch);
    return r < 0 ? -1 : 1;
}

/* feed:{ns}:{id} -> uid: the document at the namespace's key */
int entity_feed_resolve(const char *id, size_t il, const char *uid, size_t ul, dkey *doc, void *arg) {
    const entity_ns *ns = arg;
    char u[UID_BUF], i[UID_BUF];
    if (!dom_valid_id(uid, ul) || !dom_valid_id(id, il)) return 0;
    memcpy(u, uid, ul);
    u[ul] = 0;
    memcpy(i, id, il);
    i[il] = 0;
    entity_key_doc(doc, ns, u, i);
    return 1;
}
