/* End-to-end tests of the entity engine (SPEC §4.1): the six commands of
 * every namespace, the promoted feeds of CONCERT and NEWS, the active index
 * of BANNER, the COST of PROMO/PITCH, IDEMP, and the bad inputs of SPEC §4. */
#include "e2e_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

SKV_FIXTURE();

#define expect_has(doc, frag) expect_has_l(__LINE__, (doc), (frag), 1)
#define expect_lacks(doc, frag) expect_has_l(__LINE__, (doc), (frag), 0)

static void expect_has_l(int line, const char *doc, const char *frag, int want) {
    int has = strstr(doc, frag) != NULL;
    cr_expect_eq(has, want, "line %d: '%s' %s '%s'", line, doc, want ? "lacks" : "has", frag);
}

/* NS.CREATE uid json: the new id (asserted), copied into id. */
#define create(ns, uid, json, id) assert_id(skv_cmd(c, "%s.CREATE %s %s", (ns), (uid), (json)), (id))

/* The namespaces and where their documents live (SPEC §5). */
static const struct {
    const char *ns, *key; /* key: printf pattern with uid, id */
} NS[] = {
    {"track", "tracks:%s:%s"},   {"video", "videos:%s:%s"},        {"concert", "concerts:%s:%s"},
    {"news", "news:%s:%s"},      {"banner", "banners:%s:%s"},      {"promo", "promotion:%s:%s"},
    {"pitch", "pitching:%s:%s"}, {"paymethod", "payments:%s:method:%s"},
};
#define NNS (sizeof NS / sizeof NS[0])

/* MULTI, each of the n commands queued, EXEC: the EXEC reply (asserted an
 * array of n replies). */
static redisReply *multi_exec(size_t n, const char *const *cmds) {
    expect_status(skv_cmd(c, "MULTI"), "OK");
    for (size_t i = 0; i < n; i++) { /* words split at single spaces */
        char buf[128];
        const char *argv[8];
        size_t lens[8];
        int argc = 0;
        snprintf(buf, sizeof buf, "%s", cmds[i]);
        for (char *w = strtok(buf, " "); w && argc < 8; w = strtok(NULL, " ")) {
            argv[argc] = w;
            lens[argc++] = strlen(w);
        }
        expect_status(skv_cmdargv(c, argc, argv, lens), "QUEUED");
    }
    redisReply *r = skv_cmd(c, "EXEC");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "%s", rstr(r));
    cr_assert_eq(r->elements, n);
    return r;
}

/* ---- the six commands, every namespace ------------------------------------ */

Test(entities, every_namespace_life_cycle, .init = up, .fini = down) {
    for (size_t n = 0; n < NNS; n++) {
        const char *ns = NS[n].ns;
        char id[17], id2[17], key[128];
        expect_int(skv_cmd(c, "%s.COUNT u1", ns), 0);
        create(ns, "u1", "{\"title\":\"one\",\"n\":1}", id);
        create(ns, "u1", "{\"title\":\"two\"}", id2);
        cr_expect(strcmp(id2, id) > 0, "%s: ids increase (%s, %s)", ns, id, id2);
        expect_int(skv_cmd(c, "%s.COUNT u1", ns), 2);

        char *doc = take_bulk(skv_cmd(c, "%s.GET u1 %s", ns, id));
        expect_has(doc, "\"title\":\"one\"");
        expect_has(doc, "\"n\":1");
        char want[64];
        snprintf(want, sizeof want, "\"id\":\"%s\"", id);
        expect_has(doc, want);
        expect_has(doc, "\"user_id\":\"u1\"");
        expect_has(doc, "\"created_at\":\"20");
        expect_has(doc, "\"updated_at\":\"20");
        /* the document sits at its seed key */
        snprintf(key, sizeof key, NS[n].key, "u1", id);
        expect_bulk(skv_cmd(c, "KV.GET %s", key), doc);
        free(doc);
        /* another owner sees nothing */
        expect_nil(skv_cmd(c, "%s.GET u2 %s", ns, id));

        char ids[2][17];
        memcpy(ids[0], id2, 17);
        memcpy(ids[1], id, 17);
        expect_id_list(skv_cmd(c, "%s.LIST u1", ns), 2, ids);

        doc = take_bulk(skv_cmd(c, "%s.UPDATE u1 %s %s", ns, id, "{\"title\":\"uno\",\"n\":null}"));
        expect_has(doc, "\"title\":\"uno\"");
        expect_lacks(doc, "\"n\":");
        expect_has(doc, want);
        expect_bulk(skv_cmd(c, "%s.GET u1 %s", ns, id), doc);
        expect_bulk(skv_cmd(c, "KV.GET %s", key), doc);
        free(doc);

        expect_int(skv_cmd(c, "%s.DELETE u1 %s", ns, id), 1);
        expect_int(skv_cmd(c, "%s.DELETE u1 %s", ns, id), 0);
        expect_nil(skv_cmd(c, "%s.GET u1 %s", ns, id));
        expect_nil(skv_cmd(c, "KV.GET %s", key));
        expect_int(skv_cmd(c, "%s.COUNT u1", ns), 1);
        expect_id_list(skv_cmd(c, "%s.LIST u1", ns), 1, ids);
        expect_int(skv_cmd(c, "%s.DELETE u1 %s", ns, id2), 1);
        expect_int(skv_cmd(c, "%s.COUNT u1", ns), 0);
        expect_id_list(skv_cmd(c, "%s.LIST u1", ns), 0, ids);
    }
    /* nothing of the engine's bookkeeping is user-visible */
    expect_int(skv_cmd(c, "DBSIZE"), 0);
}

Test(entities, ids_are_unique_across_namespaces, .init = up, .fini = down) {
    char ids[NNS][17];
    for (size_t n = 0; n < NNS; n++) create(NS[n].ns, "u1", "{}", ids[n]);
    for (size_t n = 1; n < NNS; n++) cr_expect(strcmp(ids[n], ids[n - 1]) > 0, "%s <= %s", ids[n], ids[n - 1]);
    expect_int(skv_cmd(c, "DBSIZE"), (long long)NNS);
}

Test(entities, merge_patch_semantics, .init = up, .fini = down) {
    char id[17];
    create("track", "u1", "{\"title\":\"t\",\"meta\":{\"a\":1,\"b\":{\"c\":2,\"d\":3}},\"tags\":[1,2],\"big\":9007199254740993}", id);
    char *before = take_bulk(skv_cmd(c, "TRACK.GET u1 %s", id));
    usleep(5000); /* updated_at has millisecond resolution */
    char *doc = take_bulk(skv_cmd(c, "TRACK.UPDATE u1 %s %s", id,
                                 "{\"meta\":{\"a\":null,\"b\":{\"d\":null,\"e\":4}},\"tags\":[3],\"new\":true,\"title\":null}"));
    expect_lacks(doc, "\"title\"");
    expect_lacks(doc, "\"a\":");
    expect_lacks(doc, "\"d\":");
    expect_has(doc, "\"b\":{\"c\":2,\"e\":4}");
    expect_has(doc, "\"tags\":[3]");
    expect_has(doc, "\"new\":true");
    expect_has(doc, "\"big\":9007199254740993");
    /* created_at stays, updated_at moves */
    const char *ca = strstr(before, "\"created_at\":");
    cr_assert(ca);
    char created[64];
    snprintf(created, sizeof created, "%.40s", ca);
    expect_has(doc, created);
    const char *ua0 = strstr(before, "\"updated_at\":"), *ua1 = strstr(doc, "\"updated_at\":");
    cr_assert(ua0 && ua1);
    cr_expect(strncmp(ua0, ua1, 40) != 0, "updated_at did not change: %s / %s", before, doc);
    /* an empty patch only touches updated_at */
    char *again = take_bulk(skv_cmd(c, "TRACK.UPDATE u1 %s {}", id));
    expect_has(again, "\"b\":{\"c\":2,\"e\":4}");
    free(again);
    free(before);
    free(doc);
}

Test(entities, server_owned_fields_are_ignored, .init = up, .fini = down) {
    char id[17];
    create("video", "u1",
           "{\"id\":\"forged\",\"user_id\":\"mallory\",\"created_at\":\"1999-01-01T00:00:00.000Z\","
           "\"updated_at\":\"1999-01-01T00:00:00.000Z\",\"title\":\"v\"}",
           id);
    char *doc = take_bulk(skv_cmd(c, "VIDEO.GET u1 %s", id));
    char want[64];
    snprintf(want, sizeof want, "\"id\":\"%s\"", id);
    expect_has(doc, want);
    expect_has(doc, "\"user_id\":\"u1\"");
    expect_lacks(doc, "forged");
    expect_lacks(doc, "mallory");
    expect_lacks(doc, "1999");
    expect_has(doc, "\"title\":\"v\"");
    free(doc);
    doc = take_bulk(skv_cmd(c, "VIDEO.UPDATE u1 %s %s", id,
                           "{\"id\":\"x\",\"user_id\":\"mallory\",\"created_at\":null,\"updated_at\":\"1999\",\"t\":2}"));
    expect_has(doc, want);
    expect_has(doc, "\"user_id\":\"u1\"");
    expect_has(doc, "\"created_at\":\"20");
    expect_has(doc, "\"updated_at\":\"20");
    expect_lacks(doc, "mallory");
    expect_lacks(doc, "1999");
    expect_has(doc, "\"t\":2");
    free(doc);
    /* not under mallory either */
    expect_int(skv_cmd(c, "VIDEO.COUNT mallory"), 0);
    expect_int(skv_cmd(c, "KV.COUNT videos:"), 1);
}

Test(entities, visible_through_kv, .init = up, .fini = down) {
    char ids[3][17];
    for (int i = 0; i < 3; i++) create("track", "u1", "{\"k\":1}", ids[i]);
    char other[17];
    create("track", "u10", "{}", other); /* u10 is not under tracks:u1: */
    redisReply *r = skv_cmd(c, "KV.GETBYPREFIX tracks:u1:");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 6);
    for (int i = 0; i < 3; i++) {
        char key[64];
        snprintf(key, sizeof key, "tracks:u1:%s", ids[i]);
        cr_expect_str_eq(r->element[2 * i]->str, key);
        cr_expect(strstr(r->element[2 * i + 1]->str, ids[i]) != NULL);
    }
    freeReplyObject(r);
    expect_int(skv_cmd(c, "KV.COUNT tracks:"), 4);
    /* PAYMETHOD's documents are under payments:{uid}:method: */
    char pm[17];
    create("paymethod", "u1", "{\"brand\":\"visa\"}", pm);
    r = skv_cmd(c, "KV.GETBYPREFIX payments:u1:method:");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 2);
    freeReplyObject(r);
}

/* ---- lists ------------------------------------------------------------------- */

Test(entities, paging_across_120_items, .init = up, .fini = down) {
    enum { N = 120 };
    static char ids[N][17], desc[N][17];
    for (int i = 0; i < N; i++) {
        char json[32];
        snprintf(json, sizeof json, "{\"i\":%d}", i);
        create("track", "u1", json, ids[i]);
    }
    for (int i = 0; i < N; i++) memcpy(desc[i], ids[N - 1 - i], 17);
    expect_int(skv_cmd(c, "TRACK.COUNT u1"), N);
    expect_id_list(skv_cmd(c, "TRACK.LIST u1"), 50, desc);                   /* default LIMIT 50 */
    expect_id_list(skv_cmd(c, "TRACK.LIST u1 LIMIT 1000"), N, desc);
    expect_id_list(skv_cmd(c, "TRACK.LIST u1 LIMIT 1"), 1, desc);
    /* walk with AFTER, 7 at a time; options in either order */
    int got = 0;
    char after[17] = "";
    while (got < N) {
        redisReply *r = after[0] ? skv_cmd(c, "TRACK.LIST u1 LIMIT 7 AFTER %s", after) : skv_cmd(c, "TRACK.LIST u1 LIMIT 7");
        size_t want = N - got < 7 ? (size_t)(N - got) : 7;
        char last[17];
        cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
        cr_assert_eq(r->elements, want, "page at %d: %zu", got, r->elements);
        snprintf(last, sizeof last, "%s", jstr(r->element[r->elements - 1]->str, "id"));
        expect_id_list(r, want, &desc[got]);
        got += (int)want;
        memcpy(after, last, 17);
    }
    expect_id_list(skv_cmd(c, "TRACK.LIST u1 AFTER %s", after), 0, desc); /* after the oldest */
    /* AFTER an id that does not exist continues from where it would be */
    char mid[18];
    snprintf(mid, sizeof mid, "%s0", desc[10]); /* just above desc[10]: no such item */
    expect_id_list(skv_cmd(c, "TRACK.LIST u1 AFTER %s LIMIT 3", mid), 3, &desc[10]);
    expect_id_list(skv_cmd(c, "TRACK.LIST u1 AFTER %s LIMIT 3", desc[10]), 3, &desc[11]);
    expect_id_list(skv_cmd(c, "TRACK.LIST u1 AFTER zzzz LIMIT 2"), 2, desc); /* above every id */
    expect_id_list(skv_cmd(c, "TRACK.LIST u1 AFTER 0 LIMIT 2"), 0, desc);    /* below every id */
}

/* Pages of every list length around the point where a newest-first page
 * stops reading its range forwards and walks it backwards (2 * LIMIT + 16
 * entries, see domain_list.c): every page, and the whole walk with AFTER,
 * equals the creation order reversed on both sides of it, over the
 * documents and over a meta index, outside and inside MULTI. */
Test(entities, pages_on_both_sides_of_the_forward_read, .init = up, .fini = down) {
    static const int lens[] = {1, 2, 17, 18, 19, 29, 30, 31, 47, 48, 49, 115, 116, 117};
    static const int limits[] = {1, 7, 16, 50};
    enum { MAXN = 117 };
    static char ids[MAXN][17], desc[MAXN][17];
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        int n = lens[li];
        char uid[16];
        snprintf(uid, sizeof uid, "len%d", n);
        for (int i = 0; i < n; i++) create("track", uid, "{}", ids[i]);
        for (int i = 0; i < n; i++) memcpy(desc[i], ids[n - 1 - i], 17);
        for (size_t mi = 0; mi < sizeof limits / sizeof limits[0]; mi++) {
            int lim = limits[mi], got = 0;
            char after[17] = "";
            while (got < n) {
                redisReply *r = after[0] ? skv_cmd(c, "TRACK.LIST %s LIMIT %d AFTER %s", uid, lim, after)
                                         : skv_cmd(c, "TRACK.LIST %s LIMIT %d", uid, lim);
                size_t want = n - got < lim ? (size_t)(n - got) : (size_t)lim;
                cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "%s", rstr(r));
                cr_assert_eq(r->elements, want, "length %d, LIMIT %d, page at %d: %zu", n, lim, got, r->elements);
                expect_id_list(r, want, &desc[got]);
                memcpy(after, desc[got + want - 1], 17);
                got += (int)want;
            }
            expect_id_list(skv_cmd(c, "TRACK.LIST %s LIMIT %d AFTER %s", uid, lim, after), 0, desc);
        }
    }
    /* a meta index (NOTIFY.LIST UNREAD) on both sides, with read ones left out */
    int n = 60, nl = 0;
    static char live[60][17];
    for (int i = 0; i < n; i++) assert_id(skv_cmd(c, "NOTIFY.CREATE fan {}"), ids[i]);
    for (int i = 0; i < n; i++) memcpy(desc[i], ids[n - 1 - i], 17);
    for (int i = 0; i < n; i++) {
        if (i % 3 == 1) expect_int(skv_cmd(c, "NOTIFY.READ fan %s", desc[i]), 1);
        else memcpy(live[nl++], desc[i], 17);
    }
    expect_id_list(skv_cmd(c, "NOTIFY.LIST fan UNREAD LIMIT 1000"), (size_t)nl, live); /* read forwards */
    expect_id_list(skv_cmd(c, "NOTIFY.LIST fan UNREAD LIMIT 3"), 3, live);             /* 40 > 22: backwards */
    expect_id_list(skv_cmd(c, "NOTIFY.LIST fan LIMIT 3"), 3, desc);
    expect_id_list(skv_cmd(c, "NOTIFY.LIST fan UNREAD LIMIT 2 AFTER %s", desc[49]), 2, &live[nl - 7]);
    expect_id_list(skv_cmd(c, "NOTIFY.LIST fan UNREAD LIMIT 5 AFTER %s", desc[57]), 1, &live[nl - 1]);
    /* inside MULTI the range includes the transaction's own writes */
    static const char *const q[] = {"TRACK.CREATE len2 {}", "TRACK.LIST len2 LIMIT 2", "TRACK.LIST len2 LIMIT 16"};
    redisReply *r = multi_exec(3, q);
    cr_assert_eq(r->element[0]->type, REDIS_REPLY_STRING);
    cr_assert_eq(r->element[1]->elements, 2);
    cr_assert_eq(r->element[2]->elements, 3);
    cr_expect(strstr(r->element[1]->element[0]->str, r->element[0]->str), "newest first: %s", r->element[0]->str);
    cr_expect(strstr(r->element[2]->element[0]->str, r->element[0]->str));
    freeReplyObject(r);
}

/* Pages through uid's TRACK.LIST with LIMIT lim from the start to the end
 * (AFTER the last id of each page) and checks each page against desc[]. */
static void page_all(const char *uid, int n, int lim, char (*desc)[17]) {
    int got = 0;
    char after[17] = "";
    while (got < n) {
        redisReply *r = after[0] ? skv_cmd(c, "TRACK.LIST %s LIMIT %d AFTER %s", uid, lim, after)
                                 : skv_cmd(c, "TRACK.LIST %s LIMIT %d", uid, lim);
        size_t want = n - got < lim ? (size_t)(n - got) : (size_t)lim;
        cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "%s", rstr(r));
        cr_assert_eq(r->elements, want, "%s: LIMIT %d, page at %d: %zu items", uid, lim, got, r->elements);
        expect_id_list(r, want, &desc[got]);
        memcpy(after, desc[got + want - 1], 17);
        got += (int)want;
    }
    expect_id_list(skv_cmd(c, "TRACK.LIST %s LIMIT %d AFTER %s", uid, lim, after), 0, desc);
}

/* Lists longer than the forward read are read in chunks from their end,
 * each chunk's start guessed from how densely ids fill the list
 * (TRACK.LIST knows the length from the count; NOTIFY.LIST guesses from
 * its first entries). Bursts of ids within a millisecond next to gaps of
 * 30 ms make the guesses wrong both ways; every page must still be exact. */
Test(entities, long_lists_read_from_their_end, .init = up, .fini = down) {
    enum { N = 700 };
    static char ids[N][17], desc[N + 2][17];
    for (int i = 0; i < N; i++) {
        if (i % 100 == 0 || i == 650) msleep(30);
        create("track", "long", "{}", ids[i]);
    }
    for (int i = 0; i < N; i++) memcpy(desc[i], ids[N - 1 - i], 17);
    static const int limits[] = {1, 3, 20, 64, 1000};
    for (size_t mi = 0; mi < sizeof limits / sizeof limits[0]; mi++) page_all("long", N, limits[mi], desc);
    /* a page from the middle, and one past an id that is not in the list */
    expect_id_list(skv_cmd(c, "TRACK.LIST long LIMIT 5 AFTER %s", desc[333]), 5, &desc[334]);
    char gap[17];
    memcpy(gap, desc[49], 17);
    gap[15] = gap[15] == '0' ? '1' : '0'; /* not an id of the list, between or beside two */
    redisReply *r = skv_cmd(c, "TRACK.LIST long LIMIT 1000 AFTER %s", gap);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "%s", rstr(r));
    size_t below = 0;
    for (int i = 0; i < N; i++) below += strcmp(desc[i], gap) < 0;
    expect_id_list(r, below, &desc[N - below]);
    /* imported ids that are not server ids, at either end of the list: the
     * list is read backwards as before */
    r = skv_cmd(c, "IMPORT.RECORD tracks:long:list [{\"id\":\"zz-last\"},{\"id\":\"00-first\"}]");
    cr_assert_eq(r->type, REDIS_REPLY_STATUS, "%s", rstr(r));
    freeReplyObject(r);
    memmove(desc[1], desc[0], sizeof desc[0] * N);
    memcpy(desc[0], "zz-last", 8);
    memcpy(desc[N + 1], "00-first", 9);
    expect_int(skv_cmd(c, "TRACK.COUNT long"), N + 2);
    page_all("long", N + 2, 20, desc);
    page_all("long", N + 2, 1000, desc);
    /* a long meta index with most entries filtered out (NOTIFY.LIST UNREAD:
     * read ones are not in it), so a page needs several chunks */
    enum { M = 400 };
    static char nids[M][17], live[M][17];
    for (int i = 0; i < M; i++) {
        if (i % 80 == 0) msleep(30);
        assert_id(skv_cmd(c, "NOTIFY.CREATE fan {}"), nids[i]);
    }
    int nl = 0;
    for (int i = M - 1; i >= 0; i--) {
        if (i % 37 == 5) memcpy(live[nl++], nids[i], 17);
        else expect_int(skv_cmd(c, "NOTIFY.READ fan %s", nids[i]), 1);
    }
    expect_id_list(skv_cmd(c, "NOTIFY.LIST fan UNREAD LIMIT 4"), 4, live);
    expect_id_list(skv_cmd(c, "NOTIFY.LIST fan UNREAD LIMIT 1000"), (size_t)nl, live);
    expect_id_list(skv_cmd(c, "NOTIFY.LIST fan UNREAD LIMIT 3 AFTER %s", live[2]), 3, &live[3]);
    char two[2][17];
    memcpy(two[0], nids[199], 17);
    memcpy(two[1], nids[198], 17);
    expect_id_list(skv_cmd(c, "NOTIFY.LIST fan LIMIT 2 AFTER %s", nids[200]), 2, two);
}

Test(entities, absent_owner_and_missing_ids, .init = up, .fini = down) {
    char none[1][17];
    expect_id_list(skv_cmd(c, "TRACK.LIST nobody"), 0, none);
    expect_int(skv_cmd(c, "TRACK.COUNT nobody"), 0);
    expect_nil(skv_cmd(c, "TRACK.GET nobody 0123456789abcdef"));
    char id[17];
    create("track", "u1", "{\"x\":1}", id);
    expect_error(skv_cmd(c, "TRACK.UPDATE u1 0123456789abcdef {}"), "NOTFOUND");
    expect_error(skv_cmd(c, "TRACK.UPDATE u2 %s {}", id), "NOTFOUND"); /* not u2's */
    expect_int(skv_cmd(c, "TRACK.DELETE u1 0123456789abcdef"), 0);
    expect_int(skv_cmd(c, "TRACK.DELETE u2 %s", id), 0);
    expect_int(skv_cmd(c, "TRACK.COUNT u1"), 1);
    expect_int(skv_cmd(c, "TRACK.COUNT u2"), 0);
    expect_int(skv_cmd(c, "DBSIZE"), 1);
    /* a NOTFOUND update created nothing */
    expect_nil(skv_cmd(c, "KV.GET tracks:u1:0123456789abcdef"));
    /* another namespace's id is not a track */
    char v[17];
    create("video", "u1", "{}", v);
    expect_nil(skv_cmd(c, "TRACK.GET u1 %s", v));
    expect_int(skv_cmd(c, "TRACK.DELETE u1 %s", v), 0);
    expect_int(skv_cmd(c, "VIDEO.COUNT u1"), 1);
}

/* ---- promoted feeds ------------------------------------------------------------ */

Test(entities, promoted_feeds, .init = up, .fini = down) {
    const char *nss[] = {"concert", "news"};
    for (size_t n = 0; n < 2; n++) {
        const char *ns = nss[n];
        char a[17], b[17], x[17], d[17], want[3][17];
        create(ns, "u1", "{\"t\":\"a\"}", a);
        create(ns, "u2", "{\"t\":\"x\"}", x);
        create(ns, "u1", "{\"t\":\"b\"}", b);
        create(ns, "u1", "{\"t\":\"d\"}", d);
        expect_id_list(skv_cmd(c, "%s.PROMOTED", ns), 0, want);
        expect_int(skv_cmd(c, "%s.PROMOTE u1 %s", ns, a), 1);
        expect_int(skv_cmd(c, "%s.PROMOTE u1 %s", ns, a), 0);          /* already */
        expect_int(skv_cmd(c, "%s.PROMOTE u1 %s", ns, x), 0);          /* not u1's */
        expect_int(skv_cmd(c, "%s.PROMOTE u1 0123456789abcdef", ns), 0); /* no such item */
        expect_int(skv_cmd(c, "%s.PROMOTE u2 %s", ns, x), 1);
        expect_int(skv_cmd(c, "%s.PROMOTE u1 %s", ns, b), 1);
        char *doc = take_bulk(skv_cmd(c, "%s.GET u1 %s", ns, a));
        expect_has(doc, "\"promoted\":true");
        free(doc);
        /* newest first, by id, across owners; the documents themselves */
        memcpy(want[0], b, 17);
        memcpy(want[1], x, 17);
        memcpy(want[2], a, 17);
        expect_id_list(skv_cmd(c, "%s.PROMOTED", ns), 3, want);
        redisReply *r = skv_cmd(c, "%s.PROMOTED LIMIT 1", ns);
        cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
        cr_assert_eq(r->elements, 1);
        cr_expect(strstr(r->element[0]->str, "\"t\":\"b\"") != NULL, "%s", r->element[0]->str);
        freeReplyObject(r);
        expect_id_list(skv_cmd(c, "%s.PROMOTED AFTER %s", ns, b), 2, &want[1]);
        expect_id_list(skv_cmd(c, "%s.PROMOTED LIMIT 1 AFTER %s", ns, x), 1, &want[2]);
        expect_id_list(skv_cmd(c, "%s.PROMOTED AFTER %s", ns, a), 0, want);
        /* an update shows in the feed */
        doc = take_bulk(skv_cmd(c, "%s.UPDATE u1 %s %s", ns, b, "{\"t\":\"B\"}"));
        free(doc);
        r = skv_cmd(c, "%s.PROMOTED LIMIT 1", ns);
        cr_assert_eq(r->elements, 1);
        cr_expect(strstr(r->element[0]->str, "\"t\":\"B\"") != NULL, "%s", r->element[0]->str);
        freeReplyObject(r);
        /* unpromote */
        expect_int(skv_cmd(c, "%s.UNPROMOTE u1 %s", ns, x), 0); /* not u1's */
        expect_int(skv_cmd(c, "%s.UNPROMOTE u1 %s", ns, a), 1);
        expect_int(skv_cmd(c, "%s.UNPROMOTE u1 %s", ns, a), 0);
        expect_int(skv_cmd(c, "%s.UNPROMOTE u1 %s", ns, d), 0); /* never promoted */
        expect_id_list(skv_cmd(c, "%s.PROMOTED", ns), 2, want);
        doc = take_bulk(skv_cmd(c, "%s.GET u1 %s", ns, a));
        expect_lacks(doc, "\"promoted\":true");
        free(doc);
        /* a deleted document leaves the feed */
        expect_int(skv_cmd(c, "%s.DELETE u2 %s", ns, x), 1);
        expect_id_list(skv_cmd(c, "%s.PROMOTED", ns), 1, want);
        /* the feed follows the document's field, written by UPDATE too */
        doc = take_bulk(skv_cmd(c, "%s.UPDATE u1 %s %s", ns, d, "{\"promoted\":true}"));
        free(doc);
        memcpy(want[0], d, 17);
        memcpy(want[1], b, 17);
        expect_id_list(skv_cmd(c, "%s.PROMOTED", ns), 2, want);
        doc = take_bulk(skv_cmd(c, "%s.UPDATE u1 %s %s", ns, d, "{\"promoted\":null}"));
        free(doc);
        memcpy(want[0], b, 17);
        expect_id_list(skv_cmd(c, "%s.PROMOTED", ns), 1, want);
        doc = take_bulk(skv_cmd(c, "%s.UPDATE u1 %s %s", ns, d, "{\"promoted\":\"yes\"}")); /* only true counts */
        free(doc);
        expect_id_list(skv_cmd(c, "%s.PROMOTED", ns), 1, want);
        char e[17];
        create(ns, "u3", "{\"promoted\":true}", e); /* and by CREATE */
        memcpy(want[0], e, 17);
        memcpy(want[1], b, 17);
        expect_id_list(skv_cmd(c, "%s.PROMOTED", ns), 2, want);
        expect_int(skv_cmd(c, "%s.UNPROMOTE u3 %s", ns, e), 1);
        expect_int(skv_cmd(c, "%s.DELETE u1 %s", ns, b), 1);
        expect_id_list(skv_cmd(c, "%s.PROMOTED", ns), 0, want);
    }
    /* the two feeds are apart */
    char cc[17], nn[17];
    create("concert", "u1", "{\"promoted\":true}", cc);
    expect_id_list(skv_cmd(c, "NEWS.PROMOTED"), 0, &cc);
    expect_id_list(skv_cmd(c, "CONCERT.PROMOTED"), 1, &cc);
    create("news", "u1", "{}", nn);
    expect_int(skv_cmd(c, "NEWS.PROMOTE u1 %s", cc), 0); /* a concert id is no news */
}

Test(entities, promoted_feed_paging, .init = up, .fini = down) {
    enum { N = 120 };
    static char ids[N][17], desc[N][17];
    for (int i = 0; i < N; i++) {
        char uid[8];
        snprintf(uid, sizeof uid, "u%d", i % 5);
        create("concert", uid, "{}", ids[i]);
        if (i % 2 == 0) expect_int(skv_cmd(c, "CONCERT.PROMOTE %s %s", uid, ids[i]), 1);
    }
    int np = 0;
    for (int i = N - 1; i >= 0; i--)
        if (i % 2 == 0) memcpy(desc[np++], ids[i], 17);
    expect_id_list(skv_cmd(c, "CONCERT.PROMOTED LIMIT 1000"), (size_t)np, desc);
    expect_id_list(skv_cmd(c, "CONCERT.PROMOTED"), 50, desc);
    int got = 0;
    char after[17] = "";
    while (got < np) {
        size_t want = np - got < 11 ? (size_t)(np - got) : 11;
        redisReply *r = after[0] ? skv_cmd(c, "CONCERT.PROMOTED AFTER %s LIMIT 11", after)
                                 : skv_cmd(c, "CONCERT.PROMOTED LIMIT 11");
        expect_id_list(r, want, &desc[got]);
        got += (int)want;
        memcpy(after, desc[got - 1], 17);
    }
    /* AFTER a non-promoted id continues below it */
    expect_id_list(skv_cmd(c, "CONCERT.PROMOTED AFTER %s LIMIT 2", ids[N - 1]), 2, desc);
}

/* A delete takes the document's feed entry with it: a document written
 * again at the same key around the engine (domain-write-guard no, the
 * migration aid) does not reappear in the feed, as it would if the entry
 * had stayed behind (the feed lists only documents that exist). */
Test(entities, delete_leaves_no_feed_entry, .init = up, .fini = down) {
    skv_cleanup(&srv);
    redisFree(c);
    const char *extra[] = {"--domain-write-guard", "no", NULL};
    skv_start(&srv, extra);
    c = skv_connect(&srv);
    const char *nss[][2] = {{"concert", "concerts"}, {"news", "news"}, {"banner", "banners"}};
    for (int n = 0; n < 3; n++) {
        char id[17], want[1][17];
        create(nss[n][0], "u1", "{\"promoted\":true,\"status\":\"active\"}", id);
        memcpy(want[0], id, 17);
        expect_id_list(skv_cmd(c, "%s.%s", nss[n][0], n == 2 ? "ACTIVE" : "PROMOTED"), 1, want);
        expect_int(skv_cmd(c, "%s.DELETE u1 %s", nss[n][0], id), 1);
        expect_status(skv_cmd(c, "KV.SET %s:u1:%s %s", nss[n][1], id, "{\"promoted\":true,\"status\":\"active\"}"),
                      "OK");
        expect_id_list(skv_cmd(c, "%s.%s", nss[n][0], n == 2 ? "ACTIVE" : "PROMOTED"), 0, want);
        /* the engine's own delete of it is consistent again */
        expect_int(skv_cmd(c, "%s.DELETE u1 %s", nss[n][0], id), 1);
        expect_int(skv_cmd(c, "%s.COUNT u1", nss[n][0]), 0);
    }
}

/* ---- the active banner index ------------------------------------------------------ */

Test(entities, active_banner_index, .init = up, .fini = down) {
    char a[17], p[17], b[17], want[3][17], *doc;
    create("banner", "u1", "{\"status\":\"active\",\"img\":\"a.png\"}", a);
    create("banner", "u1", "{\"status\":\"paused\"}", p);
    create("banner", "u2", "{\"status\":\"active\"}", b);
    memcpy(want[0], b, 17);
    memcpy(want[1], a, 17);
    expect_id_list(skv_cmd(c, "BANNER.ACTIVE"), 2, want);
    expect_id_list(skv_cmd(c, "BANNER.ACTIVE LIMIT 1"), 1, want);
    expect_id_list(skv_cmd(c, "BANNER.ACTIVE AFTER %s", b), 1, &want[1]);
    /* paused -> active */
    doc = take_bulk(skv_cmd(c, "BANNER.UPDATE u1 %s %s", p, "{\"status\":\"active\"}"));
    free(doc);
    memcpy(want[0], b, 17);
    memcpy(want[1], p, 17);
    memcpy(want[2], a, 17);
    expect_id_list(skv_cmd(c, "BANNER.ACTIVE"), 3, want);
    /* another field: stays, and the feed shows the new document */
    doc = take_bulk(skv_cmd(c, "BANNER.UPDATE u1 %s %s", a, "{\"img\":\"b.png\"}"));
    free(doc);
    redisReply *r = skv_cmd(c, "BANNER.ACTIVE AFTER %s", p);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, 1);
    cr_expect(strstr(r->element[0]->str, "b.png") != NULL);
    freeReplyObject(r);
    /* active -> paused, and removal of the field */
    doc = take_bulk(skv_cmd(c, "BANNER.UPDATE u1 %s %s", a, "{\"status\":\"paused\"}"));
    free(doc);
    doc = take_bulk(skv_cmd(c, "BANNER.UPDATE u2 %s %s", b, "{\"status\":null}"));
    free(doc);
    memcpy(want[0], p, 17);
    expect_id_list(skv_cmd(c, "BANNER.ACTIVE"), 1, want);
    /* only the exact string "active" counts */
    const char *nots[] = {"{\"status\":\"Active\"}", "{\"status\":[\"active\"]}", "{\"status\":true}",
                          "{\"status\":\"active \"}", "{\"state\":\"active\"}"};
    for (size_t i = 0; i < sizeof nots / sizeof nots[0]; i++) {
        char x[17];
        create("banner", "u3", nots[i], x);
    }
    expect_id_list(skv_cmd(c, "BANNER.ACTIVE"), 1, want);
    /* delete */
    expect_int(skv_cmd(c, "BANNER.DELETE u1 %s", p), 1);
    expect_id_list(skv_cmd(c, "BANNER.ACTIVE"), 0, want);
    /* a failed update leaves the index alone */
    char q[17];
    create("banner", "u1", "{\"status\":\"active\"}", q);
    expect_error(skv_cmd(c, "BANNER.UPDATE u1 %s %s", q, "{\"status\":\"paused\""), "INVALID");
    memcpy(want[0], q, 17);
    expect_id_list(skv_cmd(c, "BANNER.ACTIVE"), 1, want);
    /* banners have no PROMOTE, other namespaces no feed */
    expect_error(skv_cmd(c, "BANNER.PROMOTE u1 %s", q), "ERR unknown command");
    expect_error(skv_cmd(c, "TRACK.PROMOTED"), "ERR unknown command");
}

/* ---- COST --------------------------------------------------------------------------- */

static long long balance(const char *uid) {
    redisReply *r = skv_cmd(c, "COINS.BALANCE %s", uid);
    cr_assert_eq(r->type, REDIS_REPLY_INTEGER, "COINS.BALANCE: type %d (%s)", r->type, rstr(r));
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

Test(entities, cost_spends_coins_atomically, .init = up, .fini = down) {
    const char *nss[] = {"promo", "pitch"};
    for (size_t n = 0; n < 2; n++) {
        const char *ns = nss[n];
        char uid[16], id[17];
        snprintf(uid, sizeof uid, "buyer%zu", n);
        /* no coins at all */
        expect_error(skv_cmd(c, "%s.CREATE %s {} COST 10", ns, uid), "INSUFFICIENT_FUNDS");
        expect_int(skv_cmd(c, "%s.COUNT %s", ns, uid), 0);
        expect_int(skv_cmd(c, "COINS.ADD %s 100 seed", uid), 100);
        /* more than the balance: nothing created, nothing spent */
        expect_error(skv_cmd(c, "%s.CREATE %s %s COST 101", ns, uid, "{\"name\":\"x\"}"), "INSUFFICIENT_FUNDS");
        expect_int(skv_cmd(c, "%s.COUNT %s", ns, uid), 0);
        expect_int(skv_cmd(c, "KV.COUNT %s:%s:", ns[1] == 'r' ? "promotion" : "pitching", uid), 0);
        cr_expect_eq(balance(uid), 100);
        /* success */
        redisReply *r = skv_cmd(c, "%s.CREATE %s %s COST 30", ns, uid, "{\"name\":\"x\"}");
        cr_assert_eq(r->type, REDIS_REPLY_STRING, "%s", rstr(r));
        memcpy(id, r->str, 17);
        freeReplyObject(r);
        cr_expect_eq(balance(uid), 70);
        expect_int(skv_cmd(c, "%s.COUNT %s", ns, uid), 1);
        char *doc = take_bulk(skv_cmd(c, "%s.GET %s %s", ns, uid, id));
        expect_has(doc, "\"name\":\"x\"");
        free(doc);
        /* the ledger row names the cost */
        r = skv_cmd(c, "COINS.HISTORY %s LIMIT 1", uid);
        cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "%s", rstr(r));
        cr_assert_eq(r->elements, 1);
        char reason[40];
        snprintf(reason, sizeof reason, "\"reason\":\"cost:%s\"", n == 0 ? "PROMO" : "PITCH");
        cr_expect(strstr(r->element[0]->str, reason) != NULL, "%s", r->element[0]->str);
        cr_expect(strstr(r->element[0]->str, "\"amount\":-30") != NULL, "%s", r->element[0]->str);
        freeReplyObject(r);
        expect_status(skv_cmd(c, "COINS.VERIFY %s", uid), "OK");
        /* the whole balance; then none left */
        create(ns, uid, "{}", id); /* without COST: free */
        r = skv_cmd(c, "%s.CREATE %s {} COST 70", ns, uid);
        cr_expect_eq(r->type, REDIS_REPLY_STRING, "%s", rstr(r));
        freeReplyObject(r);
        cr_expect_eq(balance(uid), 0);
        expect_error(skv_cmd(c, "%s.CREATE %s {} COST 1", ns, uid), "INSUFFICIENT_FUNDS");
        expect_int(skv_cmd(c, "%s.COUNT %s", ns, uid), 3);
        /* bad amounts: -INVALID, nothing written */
        const char *bad[] = {"0", "-1", "abc", "1.5", "9223372036854775808", "", " 1"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
            expect_error(skv_cmd(c, "%s.CREATE %s {} COST %s", ns, uid, bad[i]), "INVALID amount");
        expect_error_eq(skv_cmd(c, "%s.CREATE %s {} COST", ns, uid), "ERR syntax error");
        expect_error_eq(skv_cmd(c, "%s.CREATE %s {} PRICE 1", ns, uid), "ERR syntax error");
        expect_int(skv_cmd(c, "%s.COUNT %s", ns, uid), 3);
    }
    /* other namespaces take no COST */
    expect_error_eq(skv_cmd(c, "TRACK.CREATE u1 {} COST 1"), "ERR syntax error");
    expect_int(skv_cmd(c, "TRACK.COUNT u1"), 0);
}

Test(entities, cost_with_idemp_charges_once, .init = up, .fini = down) {
    expect_int(skv_cmd(c, "COINS.ADD u1 50 seed"), 50);
    redisReply *r = skv_cmd(c, "PROMO.CREATE u1 {} COST 20 IDEMP k1");
    cr_assert_eq(r->type, REDIS_REPLY_STRING, "%s", rstr(r));
    char id[17];
    memcpy(id, r->str, 17);
    freeReplyObject(r);
    expect_bulk(skv_cmd(c, "PROMO.CREATE u1 {} COST 20 IDEMP k1"), id);
    expect_bulk(skv_cmd(c, "PROMO.CREATE u1 {} IDEMP k1 COST 20"), id); /* same arguments, other order */
    cr_expect_eq(balance("u1"), 30);
    expect_int(skv_cmd(c, "PROMO.COUNT u1"), 1);
    expect_error(skv_cmd(c, "PROMO.CREATE u1 {} COST 21 IDEMP k1"), "CONFLICT");
    /* a failed call records nothing: its retry runs again */
    expect_error(skv_cmd(c, "PROMO.CREATE u1 {} COST 40 IDEMP k2"), "INSUFFICIENT_FUNDS");
    expect_int(skv_cmd(c, "COINS.ADD u1 10 seed"), 40);
    r = skv_cmd(c, "PROMO.CREATE u1 {} COST 40 IDEMP k2");
    cr_expect_eq(r->type, REDIS_REPLY_STRING, "%s", rstr(r));
    freeReplyObject(r);
    cr_expect_eq(balance("u1"), 0);
    expect_int(skv_cmd(c, "PROMO.COUNT u1"), 2);
}

/* ---- IDEMP -------------------------------------------------------------------------- */

Test(entities, idemp_create, .init = up, .fini = down) {
    char id[17];
    redisReply *r = skv_cmd(c, "TRACK.CREATE u1 %s IDEMP req-1", "{\"t\":1}");
    cr_assert_eq(r->type, REDIS_REPLY_STRING, "%s", rstr(r));
    memcpy(id, r->str, 17);
    freeReplyObject(r);
    expect_bulk(skv_cmd(c, "TRACK.CREATE u1 %s IDEMP req-1", "{\"t\":1}"), id);
    expect_bulk(skv_cmd(c, "track.create u1 %s idemp req-1", "{\"t\":1}"), id);
    expect_int(skv_cmd(c, "TRACK.COUNT u1"), 1);
    expect_int(skv_cmd(c, "KV.COUNT tracks:u1:"), 1);
    expect_error(skv_cmd(c, "TRACK.CREATE u1 %s IDEMP req-1", "{\"t\":2}"), "CONFLICT");
    expect_error(skv_cmd(c, "VIDEO.CREATE u1 %s IDEMP req-1", "{\"t\":1}"), "CONFLICT"); /* another command */
    expect_int(skv_cmd(c, "TRACK.COUNT u1"), 1);
    expect_int(skv_cmd(c, "VIDEO.COUNT u1"), 0);
    /* the key is scoped to the owner */
    char other[17];
    r = skv_cmd(c, "TRACK.CREATE u2 %s IDEMP req-1", "{\"t\":1}");
    cr_assert_eq(r->type, REDIS_REPLY_STRING, "%s", rstr(r));
    memcpy(other, r->str, 17);
    freeReplyObject(r);
    cr_expect_str_neq(other, id);
    expect_int(skv_cmd(c, "TRACK.COUNT u2"), 1);
    /* a refused create records nothing */
    expect_error(skv_cmd(c, "TRACK.CREATE u1 [] IDEMP req-2"), "INVALID");
    create("track", "u1", "{}", other);
    expect_int(skv_cmd(c, "TRACK.COUNT u1"), 2);
    r = skv_cmd(c, "TRACK.CREATE u1 {} IDEMP req-2");
    cr_expect_eq(r->type, REDIS_REPLY_STRING, "%s", rstr(r));
    freeReplyObject(r);
    expect_int(skv_cmd(c, "TRACK.COUNT u1"), 3);
    /* a replay survives a restart */
    cr_assert_eq(skv_stop(&srv), 0);
    skv_restart(&srv);
    redisFree(c);
    c = skv_connect(&srv);
    expect_bulk(skv_cmd(c, "TRACK.CREATE u1 %s IDEMP req-1", "{\"t\":1}"), id);
    expect_int(skv_cmd(c, "TRACK.COUNT u1"), 3);
}

/* ---- bad inputs ---------------------------------------------------------------------- */

#define LONG65 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const char *const BAD_IDS[] = {"a:b", "a b", "\xc3\xa9t\xc3\xa9", "", LONG65, "_system", "a\r\nb", "tracks:u1"};
#define NBAD (sizeof BAD_IDS / sizeof BAD_IDS[0])

Test(entities, bad_ids, .init = up, .fini = down) {
    char id[17];
    create("track", "u1", "{}", id);
    for (size_t i = 0; i < NBAD; i++) {
        const char *b = BAD_IDS[i];
        for (size_t n = 0; n < NNS; n++) {
            const char *ns = NS[n].ns;
            expect_error(skv_cmd(c, "%s.CREATE %b {}", ns, b, strlen(b)), "INVALID id '");
            expect_error(skv_cmd(c, "%s.GET %b %s", ns, b, strlen(b), id), "INVALID id '");
            expect_error(skv_cmd(c, "%s.GET u1 %b", ns, b, strlen(b)), "INVALID id '");
            expect_error(skv_cmd(c, "%s.LIST %b", ns, b, strlen(b)), "INVALID id '");
            expect_error(skv_cmd(c, "%s.LIST u1 AFTER %b", ns, b, strlen(b)), "INVALID id '");
            expect_error(skv_cmd(c, "%s.UPDATE %b %s {}", ns, b, strlen(b), id), "INVALID id '");
            expect_error(skv_cmd(c, "%s.UPDATE u1 %b {}", ns, b, strlen(b)), "INVALID id '");
            expect_error(skv_cmd(c, "%s.DELETE %b %s", ns, b, strlen(b), id), "INVALID id '");
            expect_error(skv_cmd(c, "%s.DELETE u1 %b", ns, b, strlen(b)), "INVALID id '");
            expect_error(skv_cmd(c, "%s.COUNT %b", ns, b, strlen(b)), "INVALID id '");
        }
        const char *fns[] = {"concert", "news"};
        for (int f = 0; f < 2; f++) {
            expect_error(skv_cmd(c, "%s.PROMOTE %b x", fns[f], b, strlen(b)), "INVALID id '");
            expect_error(skv_cmd(c, "%s.PROMOTE u1 %b", fns[f], b, strlen(b)), "INVALID id '");
            expect_error(skv_cmd(c, "%s.UNPROMOTE %b x", fns[f], b, strlen(b)), "INVALID id '");
            expect_error(skv_cmd(c, "%s.UNPROMOTE u1 %b", fns[f], b, strlen(b)), "INVALID id '");
            expect_error(skv_cmd(c, "%s.PROMOTED AFTER %b", fns[f], b, strlen(b)), "INVALID id '");
        }
        expect_error(skv_cmd(c, "BANNER.ACTIVE AFTER %b", b, strlen(b)), "INVALID id '");
        expect_error(skv_cmd(c, "PROMO.CREATE %b {} COST 1", b, strlen(b)), "INVALID id '");
    }
    expect_error_eq(skv_cmd(c, "TRACK.GET u1 a:b"), "INVALID id 'a:b'");
    /* the error text never carries a line break */
    redisReply *r = skv_cmd(c, "TRACK.GET %s x", "a\r\nb");
    cr_assert_eq(r->type, REDIS_REPLY_ERROR);
    cr_expect(strchr(r->str, '\r') == NULL && strchr(r->str, '\n') == NULL, "%s", r->str);
    freeReplyObject(r);
    /* 64 bytes is fine */
    char *ok = take_bulk(skv_cmd(c, "TRACK.CREATE %s {}", LONG65 + 1));
    free(ok);
    expect_int(skv_cmd(c, "TRACK.COUNT %s", LONG65 + 1), 1);
    /* nothing was written by the refused commands */
    expect_int(skv_cmd(c, "DBSIZE"), 2);
    expect_int(skv_cmd(c, "TRACK.COUNT u1"), 1);
}

Test(entities, bad_documents, .init = up, .fini = down) {
    char id[17];
    create("track", "u1", "{\"keep\":1}", id);
    const char *bad[] = {"", "{", "{\"a\":}", "[]", "[1]", "1", "\"x\"", "null", "true", "{\"a\":1}{}",
                         "{\"a\":1,\"a\":2}", "{\"a\":\"\\u0000\"}", "{'a':1}", "{\"a\":\"\xff\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (size_t n = 0; n < NNS; n++) {
            expect_error(skv_cmd(c, "%s.CREATE u1 %s", NS[n].ns, bad[i]), "INVALID ");
            expect_error(skv_cmd(c, "%s.UPDATE u1 %s %s", NS[n].ns, id, bad[i]), "INVALID ");
        }
        expect_error(skv_cmd(c, "PROMO.CREATE u1 %s COST 1", bad[i]), "INVALID ");
    }
    /* an update of a missing document with a bad patch: the patch is checked first */
    expect_error(skv_cmd(c, "TRACK.UPDATE u1 0123456789abcdef [1]"), "INVALID ");
    /* too deep */
    char deep[200] = "";
    for (int i = 0; i < 65; i++) strcat(deep, "[");
    for (int i = 0; i < 65; i++) strcat(deep, "]");
    char deepdoc[260];
    snprintf(deepdoc, sizeof deepdoc, "{\"a\":%s}", deep);
    expect_error(skv_cmd(c, "TRACK.CREATE u1 %s", deepdoc), "INVALID ");
    expect_error(skv_cmd(c, "TRACK.UPDATE u1 %s %s", id, deepdoc), "INVALID ");
    /* nothing changed */
    expect_int(skv_cmd(c, "DBSIZE"), 1);
    for (size_t n = 0; n < NNS; n++) expect_int(skv_cmd(c, "%s.COUNT u1", NS[n].ns), n == 0 ? 1 : 0);
    char *doc = take_bulk(skv_cmd(c, "TRACK.GET u1 %s", id));
    expect_has(doc, "{\"keep\":1,");
    free(doc);
}

Test(entities, document_size_limit, .init = up, .fini = down) {
    skv_cleanup(&srv);
    redisFree(c);
    const char *extra[] = {"--max-document-size", "1000", NULL};
    skv_start(&srv, extra);
    c = skv_connect(&srv);
    char big[1200], half[700], id[17];
    snprintf(big, sizeof big, "{\"a\":\"%01000d\"}", 0);
    expect_error(skv_cmd(c, "TRACK.CREATE u1 %s", big), "INVALID document too large");
    snprintf(half, sizeof half, "{\"a\":\"%0600d\"}", 0);
    create("track", "u1", half, id);
    snprintf(half, sizeof half, "{\"b\":\"%0600d\"}", 0);
    expect_error(skv_cmd(c, "TRACK.UPDATE u1 %s %s", id, half), "INVALID document too large");
    char *doc = take_bulk(skv_cmd(c, "TRACK.GET u1 %s", id));
    expect_lacks(doc, "\"b\"");
    free(doc);
    expect_int(skv_cmd(c, "TRACK.COUNT u1"), 1);
}

Test(entities, bad_options_and_arity, .init = up, .fini = down) {
    const char *limits[] = {"0", "-1", "1001", "abc", "1.5", ""};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        expect_error(skv_cmd(c, "TRACK.LIST u1 LIMIT %s", limits[i]), "INVALID LIMIT");
        expect_error(skv_cmd(c, "CONCERT.PROMOTED LIMIT %s", limits[i]), "INVALID LIMIT");
        expect_error(skv_cmd(c, "NEWS.PROMOTED LIMIT %s", limits[i]), "INVALID LIMIT");
        expect_error(skv_cmd(c, "BANNER.ACTIVE LIMIT %s", limits[i]), "INVALID LIMIT");
    }
    expect_error_eq(skv_cmd(c, "TRACK.LIST u1 LIMIT"), "ERR syntax error");
    expect_error_eq(skv_cmd(c, "TRACK.LIST u1 AFTER"), "ERR syntax error");
    expect_error_eq(skv_cmd(c, "TRACK.LIST u1 UNREAD"), "ERR syntax error");
    expect_error_eq(skv_cmd(c, "TRACK.LIST u1 FOO 1"), "ERR syntax error");
    expect_error_eq(skv_cmd(c, "BANNER.ACTIVE FOO"), "ERR syntax error");
    expect_error_eq(skv_cmd(c, "TRACK.CREATE u1 {} EXTRA"), "ERR syntax error");
    expect_error_eq(skv_cmd(c, "TRACK.CREATE u1 {} IDEMP"), "ERR syntax error");
    expect_error(skv_cmd(c, "TRACK.CREATE u1 {} IDEMP %s", ""), "INVALID");
    expect_error_eq(skv_cmd(c, "TRACK.CREATE u1"), "ERR wrong number of arguments for 'track.create' command");
    expect_error_eq(skv_cmd(c, "TRACK.GET u1"), "ERR wrong number of arguments for 'track.get' command");
    expect_error_eq(skv_cmd(c, "TRACK.GET u1 a b"), "ERR wrong number of arguments for 'track.get' command");
    expect_error_eq(skv_cmd(c, "TRACK.LIST"), "ERR wrong number of arguments for 'track.list' command");
    expect_error_eq(skv_cmd(c, "TRACK.UPDATE u1 x"), "ERR wrong number of arguments for 'track.update' command");
    expect_error_eq(skv_cmd(c, "TRACK.DELETE u1"), "ERR wrong number of arguments for 'track.delete' command");
    expect_error_eq(skv_cmd(c, "TRACK.COUNT u1 x"), "ERR wrong number of arguments for 'track.count' command");
    expect_error_eq(skv_cmd(c, "CONCERT.PROMOTE u1"), "ERR wrong number of arguments for 'concert.promote' command");
    expect_error_eq(skv_cmd(c, "NEWS.UNPROMOTE u1 a b"), "ERR wrong number of arguments for 'news.unpromote' command");
    expect_int(skv_cmd(c, "DBSIZE"), 0);
}

/* ---- around the engine ------------------------------------------------------------------ */

#define GUARD_MSG(k) "ERR key '" k "' is owned by the domain engine; use its commands"

Test(entities, write_guard, .init = up, .fini = down) {
    expect_error_eq(skv_cmd(c, "KV.SET tracks:u1:x {}"), GUARD_MSG("tracks:u1:x"));
    expect_error_eq(skv_cmd(c, "SET tracks:u1:x 1"), GUARD_MSG("tracks:u1:x"));
    char id[17], key[64];
    create("track", "u1", "{}", id);
    snprintf(key, sizeof key, "tracks:u1:%s", id);
    redisReply *r = skv_cmd(c, "KV.DEL %s", key);
    cr_expect_eq(r->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
    r = skv_cmd(c, "KV.DELBYPREFIX tracks:u1:");
    cr_expect_eq(r->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
    expect_error_eq(skv_cmd(c, "KV.SET payments:u1:method:x {}"), GUARD_MSG("payments:u1:method:x"));
    /* reads are fine */
    char *doc = take_bulk(skv_cmd(c, "KV.GET %s", key));
    free(doc);
    expect_int(skv_cmd(c, "TRACK.COUNT u1"), 1);
    expect_int(skv_cmd(c, "DBSIZE"), 1);
}

Test(entities, command_table, .init = up, .fini = down) {
    /* the owner is the first key */
    redisReply *r = skv_cmd(c, "COMMAND GETKEYS TRACK.CREATE u7 {}");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "%s", rstr(r));
    cr_assert_eq(r->elements, 1);
    cr_expect_str_eq(r->element[0]->str, "u7");
    freeReplyObject(r);
    r = skv_cmd(c, "COMMAND GETKEYS PAYMETHOD.UPDATE u8 x {}");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "%s", rstr(r));
    cr_expect_str_eq(r->element[0]->str, "u8");
    freeReplyObject(r);
    /* six rows per namespace, three per feed, one for BANNER.ACTIVE */
    size_t rows = 0;
    for (size_t n = 0; n < NNS; n++) {
        const char *ops[] = {"create", "get", "list", "update", "delete", "count"};
        for (int o = 0; o < 6; o++) {
            r = skv_cmd(c, "COMMAND INFO %s.%s", NS[n].ns, ops[o]);
            cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
            cr_expect_eq(r->element[0]->type, REDIS_REPLY_ARRAY, "%s.%s missing", NS[n].ns, ops[o]);
            rows += r->element[0]->type == REDIS_REPLY_ARRAY;
            freeReplyObject(r);
        }
    }
    cr_expect_eq(rows, 6 * NNS);
}

Test(entities, survive_restart, .init = up, .fini = down) {
    char a[17], b[17], want[2][17];
    create("concert", "u1", "{}", a);
    create("banner", "u1", "{\"status\":\"active\"}", b);
    expect_int(skv_cmd(c, "CONCERT.PROMOTE u1 %s", a), 1);
    cr_assert_eq(skv_stop(&srv), 0);
    skv_restart(&srv);
    redisFree(c);
    c = skv_connect(&srv);
    memcpy(want[0], a, 17);
    expect_id_list(skv_cmd(c, "CONCERT.PROMOTED"), 1, want);
    memcpy(want[0], b, 17);
    expect_id_list(skv_cmd(c, "BANNER.ACTIVE"), 1, want);
    expect_int(skv_cmd(c, "CONCERT.COUNT u1"), 1);
    expect_int(skv_cmd(c, "BANNER.COUNT u1"), 1);
    /* ids keep increasing after a restart */
    char d[17];
    create("concert", "u1", "{}", d);
    cr_expect(strcmp(d, b) > 0);
}

Test(entities, inside_multi, .init = up, .fini = down) {
    static const char *const q[] = {"TRACK.CREATE u1 {}", "TRACK.CREATE u1 {}", "TRACK.COUNT u1", "TRACK.LIST u1"};
    redisReply *r = multi_exec(4, q);
    cr_expect_eq(r->element[2]->type, REDIS_REPLY_INTEGER);
    cr_expect_eq(r->element[2]->integer, 2);
    cr_expect_eq(r->element[3]->type, REDIS_REPLY_ARRAY);
    cr_expect_eq(r->element[3]->elements, 2);
    freeReplyObject(r);
    expect_int(skv_cmd(c, "TRACK.COUNT u1"), 2);
}

/* ---- TRACK.FEED, VIDEO.FEED, CONCERT.FEED, NEWS.FEED ------------------------------------ */

Test(entities, feeds_of_every_document, .init = up, .fini = down) {
    static const char *const ns[] = {"TRACK", "VIDEO", "CONCERT", "NEWS"};
    for (size_t n = 0; n < 4; n++) {
        char a[17], b[17], x[17], d[17];
        expect_id(CMD("%s.CREATE u1 {\"n\":1}", ns[n]), a);
        expect_id(CMD("%s.CREATE u2 {\"n\":2}", ns[n]), b);
        expect_id(CMD("%s.CREATE u1 {\"n\":3}", ns[n]), x);
        expect_id(CMD("%s.CREATE u3 {\"n\":4}", ns[n]), d);
        expect_docs(CMD("%s.FEED", ns[n]), "id", 4, d, x, b, a);
        expect_docs(CMD("%s.FEED LIMIT 2", ns[n]), "id", 2, d, x);
        expect_docs(CMD("%s.FEED AFTER %s", ns[n], x), "id", 2, b, a);
        /* an update keeps the entry and the feed shows the new document */
        free(take_bulk(CMD("%s.UPDATE u2 %s {\"n\":20}", ns[n], b)));
        redisReply *r = ARRAY("%s.FEED AFTER %s LIMIT 1", ns[n], x);
        cr_expect(r->elements == 1 && jint(r->element[0]->str, "n") == 20);
        freeReplyObject(r);
        expect_int(CMD("%s.DELETE u1 %s", ns[n], x), 1);
        expect_docs(CMD("%s.FEED", ns[n]), "id", 3, d, b, a);
        take_int(CMD("USER.DELETE u2"));
        expect_docs(CMD("%s.FEED", ns[n]), "id", 2, d, a);
        take_int(CMD("USER.DELETE u1"));
        take_int(CMD("USER.DELETE u3"));
        expect_len(CMD("%s.FEED", ns[n]), 0);
        expect_error(CMD("%s.FEED LIMIT 0", ns[n]), "INVALID");
        expect_error(CMD("%s.FEED x", ns[n]), "ERR syntax error");
    }
    /* the namespaces without a feed */
    expect_error(CMD("BANNER.FEED"), "ERR unknown command");
    /* one namespace's feed holds only its own documents */
    char t[17];
    expect_id(CMD("TRACK.CREATE u1 {}"), t);
    expect_len(CMD("VIDEO.FEED"), 0);
    expect_docs(CMD("TRACK.FEED"), "id", 1, t);
    cr_expect_eq(kv_count(c, "all:"), 0);
}
