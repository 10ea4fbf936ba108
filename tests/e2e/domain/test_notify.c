/* End-to-end tests of NOTIFY.* (SPEC §4.5): creation, listing (all and
 * UNREAD), READ/READALL, the O(1) unread counter that always equals the
 * unread documents (under concurrent clients and across kill -9), IDEMP,
 * and the bad inputs of SPEC §4. */
#include "e2e_json.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

SKV_FIXTURE();

TestSuite(notify, .init = up, .fini = down);

/* Ids SPEC §4 refuses, with the text the error shows. */
#define ID64 "x123456789012345678901234567890123456789012345678901234567890123"
static const char *const bad_ids[] = {"a:b", "a b", "caf\xc3\xa9", "", "_system", "-x\n", ID64 "4"};

/* KV.GET of notifications:{uid}:{id}, asserted present; free() it. */
#define note(uid, id) take_bulk(CMD("KV.GET notifications:%s:%s", (uid), (id)))

/* Counts of uid's notification documents (KV.GETBYPREFIX): all, unread. */
static void count_docs(redisContext *cc, const char *uid, long *all, long *unread) {
    redisReply *r = skv_cmd(cc, "KV.GETBYPREFIX notifications:%s:", uid);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "KV.GETBYPREFIX: type %d (%s)", r->type, rstr(r));
    *all = (long)r->elements / 2;
    *unread = 0;
    for (size_t i = 1; i < r->elements; i += 2) {
        char t = jtype(r->element[i]->str, "read");
        cr_assert(t == 't' || t == 'f', "no boolean read in %s", r->element[i]->str);
        *unread += t == 'f';
    }
    freeReplyObject(r);
}

/* Unread documents counted through NOTIFY.LIST ... UNREAD, paging by 1000;
 * each must have read:false. */
static long count_list_unread(redisContext *cc, const char *uid) {
    long n = 0;
    char after[17] = "";
    for (;;) {
        redisReply *r = after[0] ? skv_cmd(cc, "NOTIFY.LIST %s UNREAD AFTER %s LIMIT 1000", uid, after)
                                 : skv_cmd(cc, "NOTIFY.LIST %s UNREAD LIMIT 1000", uid);
        cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "NOTIFY.LIST UNREAD: type %d (%s)", r->type, rstr(r));
        size_t got = r->elements;
        for (size_t i = 0; i < got; i++) {
            cr_assert_eq(jtype(r->element[i]->str, "read"), 'f', "listed as unread: %s", r->element[i]->str);
            if (i == got - 1) snprintf(after, sizeof after, "%s", jstr(r->element[i]->str, "id"));
        }
        n += (long)got;
        freeReplyObject(r);
        if (got < 1000) return n;
    }
}

/* The invariant: NOTIFY.UNREAD = documents with read:false = NOTIFY.LIST
 * UNREAD; returns the unread count. */
static long check_unread_invariant(redisContext *cc, const char *uid) {
    long all, unread;
    count_docs(cc, uid, &all, &unread);
    redisReply *r = skv_cmd(cc, "NOTIFY.UNREAD %s", uid);
    cr_assert_eq(r->type, REDIS_REPLY_INTEGER, "NOTIFY.UNREAD: type %d (%s)", r->type, rstr(r));
    cr_expect_eq(r->integer, unread, "%s: NOTIFY.UNREAD %lld, but %ld of %ld documents have read:false", uid,
                 r->integer, unread, all);
    freeReplyObject(r);
    cr_expect_eq(count_list_unread(cc, uid), unread, "%s: NOTIFY.LIST UNREAD disagrees with the documents", uid);
    return unread;
}

Test(notify, create_sets_the_owned_fields) {
    char id[17], id2[17];
    /* client values for id, user_id, read, created_at, updated_at are ignored */
    assert_id(CMD("NOTIFY.CREATE alice %s",
                  "{\"type\":\"follow\",\"text\":\"caf\\u00e9 \\\"x\\\"\",\"n\":12345678901234,\"id\":\"zz\","
                  "\"user_id\":\"bob\",\"read\":true,\"created_at\":\"x\",\"updated_at\":\"y\"}"),
              id);
    char *doc = note("alice", id);
    cr_expect_str_eq(jstr(doc, "type"), "follow", "%s", doc);
    cr_expect_str_eq(jstr(doc, "text"), "caf\xc3\xa9 \"x\"", "%s", doc);
    cr_expect_eq(jint(doc, "n"), 12345678901234LL, "%s", doc);
    cr_expect_str_eq(jstr(doc, "id"), id, "%s", doc);
    cr_expect_str_eq(jstr(doc, "user_id"), "alice", "%s", doc);
    cr_expect_eq(jtype(doc, "read"), 'f', "%s", doc);
    cr_expect(is_iso_ms(jstr(doc, "created_at")), "%s", doc);
    cr_expect_eq(jtype(doc, "updated_at"), 0, "no updated_at: %s", doc);
    cr_expect_eq(jcount(doc), 7, "%s", doc);
    /* NOTIFY.LIST returns the same bytes */
    redisReply *r = ARRAY("NOTIFY.LIST alice");
    cr_assert_eq(r->elements, 1);
    cr_expect_str_eq(r->element[0]->str, doc);
    freeReplyObject(r);
    free(doc);
    expect_int(CMD("NOTIFY.UNREAD alice"), 1);
    expect_int(CMD("NOTIFY.UNREAD bob"), 0);
    expect_int(CMD("KV.COUNT notifications:bob:"), 0);
    /* a 64-byte uid is an id */
    assert_id(CMD("NOTIFY.CREATE %s {}", ID64), id2);
    expect_int(CMD("NOTIFY.UNREAD %s", ID64), 1);
    /* ids increase */
    assert_id(CMD("NOTIFY.CREATE alice {}"), id2);
    cr_expect(strcmp(id2, id) > 0, "%s after %s", id2, id);
    expect_int(CMD("NOTIFY.UNREAD alice"), 2);
}

Test(notify, bad_inputs_write_nothing) {
    for (size_t i = 0; i < sizeof bad_ids / sizeof *bad_ids; i++) {
        const char *b = bad_ids[i];
        expect_error(CMD("NOTIFY.CREATE %s {}", b), "INVALID id '");
        expect_error(CMD("NOTIFY.LIST %s", b), "INVALID id '");
        expect_error(CMD("NOTIFY.LIST u AFTER %s", b), "INVALID id '");
        expect_error(CMD("NOTIFY.READ %s 0000000000000001", b), "INVALID id '");
        expect_error(CMD("NOTIFY.READ u %s", b), "INVALID id '");
        expect_error(CMD("NOTIFY.READALL %s", b), "INVALID id '");
        expect_error(CMD("NOTIFY.UNREAD %s", b), "INVALID id '");
    }
    expect_error_eq(CMD("NOTIFY.CREATE %s {}", "a:b"), "INVALID id 'a:b'");
    /* documents: JSON objects only */
    expect_error(CMD("NOTIFY.CREATE u %s", "{\"a\":"), "INVALID invalid JSON");
    expect_error(CMD("NOTIFY.CREATE u %s", "{} x"), "INVALID invalid JSON");
    expect_error(CMD("NOTIFY.CREATE u %s", ""), "INVALID");
    expect_error_eq(CMD("NOTIFY.CREATE u %s", "[1]"), "INVALID document must be a JSON object");
    expect_error_eq(CMD("NOTIFY.CREATE u %s", "\"x\""), "INVALID document must be a JSON object");
    expect_error_eq(CMD("NOTIFY.CREATE u %s", "null"), "INVALID document must be a JSON object");
    expect_error(CMD("NOTIFY.CREATE u %s", "{\"a\":1,\"a\":2}"), "INVALID duplicate member name");
    /* options and arity */
    expect_error_eq(CMD("NOTIFY.CREATE u {} FOO"), "ERR syntax error");
    expect_error_eq(CMD("NOTIFY.CREATE u {} IDEMP"), "ERR syntax error");
    expect_error_eq(CMD("NOTIFY.CREATE u"), "ERR wrong number of arguments for 'notify.create' command");
    expect_error_eq(CMD("NOTIFY.READ u"), "ERR wrong number of arguments for 'notify.read' command");
    expect_error_eq(CMD("NOTIFY.READ u a b"), "ERR wrong number of arguments for 'notify.read' command");
    expect_error_eq(CMD("NOTIFY.READALL u x"), "ERR wrong number of arguments for 'notify.readall' command");
    expect_error_eq(CMD("NOTIFY.UNREAD"), "ERR wrong number of arguments for 'notify.unread' command");
    expect_error_eq(CMD("NOTIFY.LIST"), "ERR wrong number of arguments for 'notify.list' command");
    /* nothing was written for u */
    expect_int(CMD("KV.COUNT notifications:"), 0);
    expect_int(CMD("NOTIFY.UNREAD u"), 0);
    expect_int(CMD("DBSIZE"), 0);
}

Test(notify, list_pages_newest_first) {
    char id[5][17];
    for (int i = 0; i < 5; i++) assert_id(CMD("NOTIFY.CREATE u {\"i\":%d}", i), id[i]);
    expect_ids(CMD("NOTIFY.LIST u"), 5, id[4], id[3], id[2], id[1], id[0]);
    expect_ids(CMD("NOTIFY.LIST u LIMIT 2"), 2, id[4], id[3]);
    expect_ids(CMD("NOTIFY.LIST u AFTER %s LIMIT 2", id[3]), 2, id[2], id[1]);
    expect_ids(CMD("NOTIFY.LIST u LIMIT 2 AFTER %s", id[1]), 1, id[0]);
    expect_ids(CMD("NOTIFY.LIST u AFTER %s", id[0]), 0, NULL);
    /* AFTER need not exist: continues below it */
    expect_ids(CMD("NOTIFY.LIST u AFTER ffffffffffffffff limit 1"), 1, id[4]);
    expect_ids(CMD("NOTIFY.LIST u LIMIT 1000"), 5, id[4], id[3], id[2], id[1], id[0]);
    expect_ids(CMD("NOTIFY.LIST u LIMIT 1"), 1, id[4]);
    /* LIMIT bounds and options */
    expect_error_eq(CMD("NOTIFY.LIST u LIMIT 0"), "INVALID LIMIT '0' (1 to 1000)");
    expect_error(CMD("NOTIFY.LIST u LIMIT -1"), "INVALID LIMIT");
    expect_error(CMD("NOTIFY.LIST u LIMIT 1001"), "INVALID LIMIT");
    expect_error(CMD("NOTIFY.LIST u LIMIT abc"), "INVALID LIMIT");
    expect_error(CMD("NOTIFY.LIST u UNREAD LIMIT 0"), "INVALID LIMIT");
    expect_error_eq(CMD("NOTIFY.LIST u LIMIT"), "ERR syntax error");
    expect_error_eq(CMD("NOTIFY.LIST u AFTER"), "ERR syntax error");
    expect_error_eq(CMD("NOTIFY.LIST u FOO"), "ERR syntax error");
    /* an absent owner: an empty array */
    expect_len(CMD("NOTIFY.LIST nobody"), 0);
    expect_len(CMD("NOTIFY.LIST nobody UNREAD"), 0);
}

Test(notify, read_one) {
    char a[17], b[17], other[17];
    assert_id(CMD("NOTIFY.CREATE alice {\"t\":1}"), a);
    assert_id(CMD("NOTIFY.CREATE alice {\"t\":2}"), b);
    assert_id(CMD("NOTIFY.CREATE bob {\"t\":3}"), other);
    char *before = note("alice", a);
    expect_int(CMD("NOTIFY.READ alice %s", a), 1);
    char *after = note("alice", a);
    cr_expect_eq(jtype(after, "read"), 't', "%s", after);
    /* nothing else of the document changed */
    cr_expect_str_eq(jstr(after, "created_at"), jstr(before, "created_at"));
    cr_expect_eq(jint(after, "t"), 1);
    cr_expect_eq(jcount(after), jcount(before), "%s vs %s", after, before);
    free(before);
    free(after);
    expect_int(CMD("NOTIFY.UNREAD alice"), 1);
    /* again: already read */
    expect_int(CMD("NOTIFY.READ alice %s", a), 0);
    expect_int(CMD("NOTIFY.UNREAD alice"), 1);
    /* another user's notification: :0, nothing changes on either side */
    expect_int(CMD("NOTIFY.READ alice %s", other), 0);
    expect_int(CMD("NOTIFY.READ bob %s", b), 0);
    char *ob = note("bob", other), *ab = note("alice", b);
    cr_expect_eq(jtype(ob, "read"), 'f', "%s", ob);
    cr_expect_eq(jtype(ab, "read"), 'f', "%s", ab);
    free(ob);
    free(ab);
    expect_int(CMD("NOTIFY.UNREAD alice"), 1);
    expect_int(CMD("NOTIFY.UNREAD bob"), 1);
    expect_nil(CMD("KV.GET notifications:alice:%s", other));
    expect_nil(CMD("KV.GET notifications:bob:%s", b));
    expect_int(CMD("KV.COUNT notifications:alice:"), 2);
    expect_int(CMD("KV.COUNT notifications:bob:"), 1);
    /* missing ids, valid or not hex */
    expect_int(CMD("NOTIFY.READ alice 0000000000000001"), 0);
    expect_int(CMD("NOTIFY.READ alice some-id"), 0);
    expect_int(CMD("NOTIFY.READ nobody %s", a), 0);
    expect_int(CMD("NOTIFY.UNREAD nobody"), 0);
    expect_int(CMD("KV.COUNT notifications:nobody:"), 0);
    expect_int(CMD("NOTIFY.READ alice %s", b), 1);
    expect_int(CMD("NOTIFY.UNREAD alice"), 0);
    check_unread_invariant(c, "alice");
    check_unread_invariant(c, "bob");
}

Test(notify, list_unread_only) {
    char id[5][17], vid[17];
    for (int i = 0; i < 5; i++) assert_id(CMD("NOTIFY.CREATE u {\"i\":%d}", i), id[i]);
    assert_id(CMD("NOTIFY.CREATE v {}"), vid); /* another user's: never listed for u */
    expect_int(CMD("NOTIFY.READ u %s", id[1]), 1);
    expect_int(CMD("NOTIFY.READ u %s", id[3]), 1);
    expect_int(CMD("NOTIFY.READ u %s", id[4]), 1);
    expect_ids(CMD("NOTIFY.LIST u UNREAD"), 2, id[2], id[0]);
    expect_ids(CMD("NOTIFY.LIST u"), 5, id[4], id[3], id[2], id[1], id[0]);
    /* options in any order, case-insensitive */
    expect_ids(CMD("NOTIFY.LIST u limit 1 unread"), 1, id[2]);
    expect_ids(CMD("NOTIFY.LIST u UNREAD AFTER %s", id[2]), 1, id[0]);
    /* AFTER a read (not indexed) id continues below it */
    expect_ids(CMD("NOTIFY.LIST u AFTER %s UNREAD", id[3]), 2, id[2], id[0]);
    expect_ids(CMD("NOTIFY.LIST u AFTER %s UNREAD", id[1]), 1, id[0]);
    expect_ids(CMD("NOTIFY.LIST u AFTER %s UNREAD", id[0]), 0, NULL);
    expect_ids(CMD("NOTIFY.LIST u AFTER zzzz UNREAD"), 2, id[2], id[0]);
    expect_ids(CMD("NOTIFY.LIST v UNREAD"), 1, vid);
    /* paging 300 unread ones by 100 gives each exactly once */
    for (int i = 0; i < 300; i++) freeReplyObject(CMD("NOTIFY.CREATE w {\"i\":%d}", i));
    char after[17] = "";
    int total = 0, expect_i = 299;
    for (int page = 0; page < 4; page++) {
        redisReply *r = after[0] ? ARRAY("NOTIFY.LIST w UNREAD LIMIT 100 AFTER %s", after)
                                 : ARRAY("NOTIFY.LIST w UNREAD LIMIT 100");
        cr_expect_eq(r->elements, page < 3 ? 100u : 0u, "page %d", page);
        for (size_t i = 0; i < r->elements; i++) cr_expect_eq(jint(r->element[i]->str, "i"), expect_i--);
        if (r->elements) snprintf(after, sizeof after, "%s", jstr(r->element[r->elements - 1]->str, "id"));
        total += (int)r->elements;
        freeReplyObject(r);
    }
    cr_expect_eq(total, 300);
}

/* UNREAD walks the unread index, not the documents: a read:false document
 * written around the engine (domain-write-guard off) has no index entry and
 * is not listed as unread, while the plain list shows it. */
Test(notify, list_unread_comes_from_the_index) {
    down();
    up_with((const char *const[]){"--domain-write-guard", "no", NULL});
    char id[17];
    assert_id(CMD("NOTIFY.CREATE u {}"), id);
    expect_status(CMD("KV.SET notifications:u:0000000000000001 %s", "{\"id\":\"0000000000000001\",\"read\":false}"),
                  "OK");
    expect_ids(CMD("NOTIFY.LIST u UNREAD"), 1, id);
    expect_ids(CMD("NOTIFY.LIST u"), 2, id, "0000000000000001");
    expect_int(CMD("NOTIFY.UNREAD u"), 1);
    /* READALL walks the index too: the stray document stays as it was */
    expect_int(CMD("NOTIFY.READALL u"), 1);
    expect_bulk(CMD("KV.GET notifications:u:0000000000000001"), "{\"id\":\"0000000000000001\",\"read\":false}");
}

Test(notify, read_all) {
    char id[4][17], v1[17];
    for (int i = 0; i < 4; i++) assert_id(CMD("NOTIFY.CREATE u {\"i\":%d}", i), id[i]);
    assert_id(CMD("NOTIFY.CREATE v {}"), v1);
    expect_int(CMD("NOTIFY.READ u %s", id[2]), 1);
    expect_int(CMD("NOTIFY.READALL u"), 3);
    expect_int(CMD("NOTIFY.UNREAD u"), 0);
    expect_len(CMD("NOTIFY.LIST u UNREAD"), 0);
    for (int i = 0; i < 4; i++) {
        char *d = note("u", id[i]);
        cr_expect_eq(jtype(d, "read"), 't', "%s", d);
        cr_expect_eq(jint(d, "i"), i, "%s", d);
        free(d);
    }
    /* again: nothing to change */
    expect_int(CMD("NOTIFY.READALL u"), 0);
    expect_int(CMD("NOTIFY.READALL nobody"), 0);
    expect_int(CMD("KV.COUNT notifications:nobody:"), 0);
    /* v untouched */
    expect_int(CMD("NOTIFY.UNREAD v"), 1);
    char *d = note("v", v1);
    cr_expect_eq(jtype(d, "read"), 'f', "%s", d);
    free(d);
    /* new ones after READALL are unread again */
    char n1[17];
    assert_id(CMD("NOTIFY.CREATE u {}"), n1);
    expect_int(CMD("NOTIFY.UNREAD u"), 1);
    expect_ids(CMD("NOTIFY.LIST u UNREAD"), 1, n1);
    check_unread_invariant(c, "u");
    check_unread_invariant(c, "v");
}

/* READALL over more entries than one chunk of the index walk (256). */
Test(notify, read_all_many) {
    enum { N = 700 };
    for (int i = 0; i < N; i++) freeReplyObject(CMD("NOTIFY.CREATE u {\"i\":%d}", i));
    redisReply *r = ARRAY("NOTIFY.LIST u LIMIT 1");
    char keep[17];
    snprintf(keep, sizeof keep, "%s", jstr(r->element[0]->str, "id"));
    freeReplyObject(r);
    expect_int(CMD("NOTIFY.READ u %s", keep), 1);
    expect_int(CMD("NOTIFY.UNREAD u"), N - 1);
    expect_int(CMD("NOTIFY.READALL u"), N - 1);
    expect_int(CMD("NOTIFY.UNREAD u"), 0);
    long all, unread;
    count_docs(c, "u", &all, &unread);
    cr_expect_eq(all, N);
    cr_expect_eq(unread, 0);
}

Test(notify, idemp_create) {
    char a[17], b[17], o[17];
    assert_id(CMD("NOTIFY.CREATE u {\"x\":1} IDEMP k1"), a);
    expect_bulk(CMD("NOTIFY.CREATE u {\"x\":1} IDEMP k1"), a);
    expect_bulk(CMD("notify.create u {\"x\":1} idemp k1"), a);
    expect_int(CMD("KV.COUNT notifications:u:"), 1);
    expect_int(CMD("NOTIFY.UNREAD u"), 1);
    /* the same key for another request */
    expect_error(CMD("NOTIFY.CREATE u {\"x\":2} IDEMP k1"), "CONFLICT");
    /* another key, and the same key for another owner, create */
    assert_id(CMD("NOTIFY.CREATE u {\"x\":1} IDEMP k2"), b);
    cr_expect_str_neq(a, b);
    assert_id(CMD("NOTIFY.CREATE o {\"x\":1} IDEMP k1"), o);
    cr_expect_str_neq(a, o);
    /* a failed call records nothing: its retry runs */
    expect_error(CMD("NOTIFY.CREATE u [] IDEMP k3"), "INVALID");
    assert_id(CMD("NOTIFY.CREATE u {} IDEMP k3"), b);
    expect_int(CMD("KV.COUNT notifications:u:"), 3);
    expect_int(CMD("NOTIFY.UNREAD u"), 3);
    /* a replay after the notification was read changes nothing */
    expect_int(CMD("NOTIFY.READ u %s", a), 1);
    expect_bulk(CMD("NOTIFY.CREATE u {\"x\":1} IDEMP k1"), a);
    expect_int(CMD("NOTIFY.UNREAD u"), 2);
    expect_error_eq(CMD("NOTIFY.CREATE u {} IDEMP k4 FOO"), "ERR syntax error");
}

Test(notify, write_guard_and_donations) {
    expect_error(CMD("KV.SET notifications:u:1 {}"), "ERR key 'notifications:u:1' is owned by the domain engine");
    expect_error(CMD("KV.DEL notifications:u:1"), "ERR key");
    /* DONATION.SEND's notification is an ordinary one */
    expect_int(CMD("COINS.ADD fan 10 r"), 10);
    redisReply *r = CMD("DONATION.SEND fan artist 3");
    cr_assert_eq(r->type, REDIS_REPLY_STRING, "%s", rstr(r));
    freeReplyObject(r);
    expect_int(CMD("NOTIFY.UNREAD artist"), 1);
    r = ARRAY("NOTIFY.LIST artist UNREAD");
    cr_assert_eq(r->elements, 1);
    char id[17];
    snprintf(id, sizeof id, "%s", jstr(r->element[0]->str, "id"));
    cr_expect_str_eq(jstr(r->element[0]->str, "type"), "donation");
    freeReplyObject(r);
    expect_int(CMD("NOTIFY.READ artist %s", id), 1);
    expect_int(CMD("NOTIFY.UNREAD artist"), 0);
    check_unread_invariant(c, "artist");
}

/* The counter survives a kill -9 together with the documents. */
Test(notify, durable) {
    char a[17], b[17];
    assert_id(CMD("NOTIFY.CREATE u {}"), a);
    assert_id(CMD("NOTIFY.CREATE u {}"), b);
    expect_int(CMD("NOTIFY.READ u %s", a), 1);
    redisFree(c);
    skv_kill9(&srv);
    skv_restart(&srv);
    c = skv_connect(&srv);
    expect_int(CMD("NOTIFY.UNREAD u"), 1);
    expect_ids(CMD("NOTIFY.LIST u UNREAD"), 1, b);
    check_unread_invariant(c, "u");
}

/* ---- concurrency ------------------------------------------------------------ */

#define NUSERS 4
#define NTHREADS 8

typedef struct worker {
    int port, id, ops;           /* ops < 0: until the connection fails */
    int readall;                 /* whether NOTIFY.READALL is among the commands */
    pthread_barrier_t *start;
    long created[NUSERS];        /* acknowledged NOTIFY.CREATE per user */
    long marked[NUSERS];         /* READ :1 and READALL :N per user */
    atomic_long done;            /* acknowledged commands */
    int bad;                     /* replies of the wrong shape */
    char err[200];
} worker;

static const char *const users[NUSERS] = {"cu0", "cu1", "cu2", "cu3"};

/* Each client creates notifications for random users, reads ids it created
 * (mostly recent ones, so that most reads change something; a quarter of
 * the time through another user: a foreign id) and now and then (readall)
 * reads everything of a user. */
static void *worker_main(void *arg) {
    worker *w = arg;
    redisContext *cc = redisConnect("127.0.0.1", w->port);
    pthread_barrier_wait(w->start);
    if (!cc || cc->err) {
        snprintf(w->err, sizeof w->err, "connect: %s", cc ? cc->errstr : "?");
        if (cc) redisFree(cc);
        return NULL;
    }
    redisSetTimeout(cc, (struct timeval){20, 0});
    unsigned seed = 7919u * (unsigned)(w->id + 1);
    enum { KEEP = 512, RECENT = 16 };
    char ids[KEEP][17]; /* a ring of the ids created, total of them so far */
    int owner[KEEP];
    long total = 0;
    for (long i = 0; w->ops < 0 || i < w->ops; i++) {
        int op = rand_r(&seed) % 20, u = rand_r(&seed) % NUSERS;
        if (op == 19 && !w->readall) op = 0;
        redisReply *r;
        if (op < 11 || total == 0) {
            r = redisCommand(cc, "NOTIFY.CREATE %s {\"w\":%d,\"i\":%ld}", users[u], w->id, i);
            if (!r) break;
            if (r->type == REDIS_REPLY_STRING && r->len == 16) {
                int slot = (int)(total++ % KEEP);
                memcpy(ids[slot], r->str, 17);
                owner[slot] = u;
                w->created[u]++;
            } else {
                w->bad++;
            }
        } else if (op < 19) {
            long span = total < KEEP ? total : KEEP;
            if (rand_r(&seed) % 4 && span > RECENT) span = RECENT;
            int k = (int)((total - 1 - rand_r(&seed) % span) % KEEP);
            int as = rand_r(&seed) % 4 ? owner[k] : (owner[k] + 1) % NUSERS;
            r = redisCommand(cc, "NOTIFY.READ %s %s", users[as], ids[k]);
            if (!r) break;
            if (r->type == REDIS_REPLY_INTEGER && (r->integer == 0 || r->integer == 1)) {
                if (r->integer == 1 && as != owner[k]) w->bad++; /* a foreign id changed something */
                w->marked[as] += r->integer;
            } else {
                w->bad++;
            }
        } else {
            r = redisCommand(cc, "NOTIFY.READALL %s", users[u]);
            if (!r) break;
            if (r->type == REDIS_REPLY_INTEGER && r->integer >= 0) w->marked[u] += r->integer;
            else w->bad++;
        }
        if (w->bad == 1 && !w->err[0])
            snprintf(w->err, sizeof w->err, "client %d op %ld: reply type %d '%.100s'", w->id, i, r->type,
                     r->str ? r->str : "");
        freeReplyObject(r);
        w->done++;
    }
    redisFree(cc);
    return NULL;
}

/* Runs NTHREADS workers; with kill_after, kills the server (-9) once they
 * have had that many commands acknowledged (or after 20 s), and waits for
 * them to notice. */
static void run_workers(worker *ws, int ops, int readall, long kill_after) {
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, NTHREADS + 1);
    pthread_t th[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        ws[t] = (worker){.port = srv.port, .id = t, .ops = ops, .readall = readall, .start = &bar};
        cr_assert(pthread_create(&th[t], NULL, worker_main, &ws[t]) == 0);
    }
    pthread_barrier_wait(&bar);
    if (kill_after) {
        for (int waited = 0; waited < 2000; waited++) {
            long done = 0;
            for (int t = 0; t < NTHREADS; t++) done += atomic_load(&ws[t].done);
            if (done >= kill_after) break;
            usleep(10000);
        }
        skv_kill9(&srv);
    }
    for (int t = 0; t < NTHREADS; t++) pthread_join(th[t], NULL);
    pthread_barrier_destroy(&bar);
    for (int t = 0; t < NTHREADS; t++) cr_expect(ws[t].bad == 0 && ws[t].err[0] == 0, "%s", ws[t].err);
}

/* After a round of workers that all ran to the end: per user, documents =
 * acknowledged creations (plus those of earlier rounds), unread documents =
 * unread ones before + created - marked (every change was reported exactly
 * once across all clients), and the invariant. Updates docs/unread. */
static void check_round(const worker *ws, long docs[NUSERS], long unread_before[NUSERS]) {
    long created_all = 0, marked_all = 0;
    for (int u = 0; u < NUSERS; u++) {
        long created = 0, marked = 0, all, unread;
        for (int t = 0; t < NTHREADS; t++) {
            created += ws[t].created[u];
            marked += ws[t].marked[u];
        }
        count_docs(c, users[u], &all, &unread);
        cr_expect_eq(all, docs[u] + created, "%s: %ld documents, expected %ld", users[u], all, docs[u] + created);
        cr_expect_eq(unread, unread_before[u] + created - marked, "%s: %ld unread, expected %ld + %ld - %ld",
                     users[u], unread, unread_before[u], created, marked);
        cr_expect_eq(check_unread_invariant(c, users[u]), unread);
        docs[u] = all;
        unread_before[u] = unread;
        created_all += created;
        marked_all += marked;
    }
    cr_expect_gt(marked_all, 100, "the workers marked %ld read", marked_all);
    cr_expect_gt(created_all - marked_all, 0, "something stayed unread");
}

Test(notify, concurrent_clients_keep_the_counter_exact, .timeout = 120) {
    worker ws[NTHREADS];
    long docs[NUSERS] = {0}, unread[NUSERS] = {0};
    /* CREATE, READ and READALL; then CREATE and READ only (after the last
     * READALL of a user, only READ changes its counter) */
    run_workers(ws, 600, 1, 0);
    check_round(ws, docs, unread);
    run_workers(ws, 600, 0, 0);
    check_round(ws, docs, unread);

    /* again, with a kill -9 in the middle of the traffic */
    redisFree(c);
    c = NULL;
    run_workers(ws, -1, 1, 2000);
    long acked = 0, acked_created = 0, before = 0, after = 0;
    for (int t = 0; t < NTHREADS; t++) {
        acked += atomic_load(&ws[t].done);
        for (int u = 0; u < NUSERS; u++) acked_created += ws[t].created[u];
    }
    cr_expect_geq(acked, 2000, "the workers ran before the kill (%ld commands)", acked);
    skv_restart(&srv);
    c = skv_connect(&srv);
    for (int u = 0; u < NUSERS; u++) {
        long all, n;
        count_docs(c, users[u], &all, &n);
        before += docs[u];
        after += all;
        check_unread_invariant(c, users[u]);
    }
    /* acknowledged creations survive; at most one in flight per client is extra */
    cr_expect(after >= before + acked_created && after <= before + acked_created + NTHREADS,
              "%ld documents after the crash: %ld before, %ld acknowledged since", after, before, acked_created);
    /* and the engine goes on from there (the last command before the kill
     * may have been a READALL of cu0, so one creation makes u0 > 0 certain) */
    long before_create = check_unread_invariant(c, "cu0");
    char id[17];
    expect_id(CMD("NOTIFY.CREATE cu0 {\"after\":\"restart\"}"), id);
    long u0 = check_unread_invariant(c, "cu0");
    cr_expect_eq(u0, before_create + 1);
    cr_expect_gt(u0, 0);
    expect_int(CMD("NOTIFY.READALL cu0"), u0);
    expect_int(CMD("NOTIFY.UNREAD cu0"), 0);
    check_unread_invariant(c, "cu0");
}

/* NOTIFY.DELETE: :1/:0, the unread counter and index stay exact. */
Test(notify, delete_one) {
    char a[17], b[17];
    expect_id(CMD("NOTIFY.CREATE u1 {\"t\":1}"), a);
    expect_id(CMD("NOTIFY.CREATE u1 {\"t\":2}"), b);
    expect_int(CMD("NOTIFY.READ u1 %s", b), 1);
    expect_int(CMD("NOTIFY.UNREAD u1"), 1);
    expect_int(CMD("NOTIFY.DELETE u2 %s", a), 0); /* another user's */
    expect_int(CMD("NOTIFY.UNREAD u1"), 1);
    expect_int(CMD("NOTIFY.DELETE u1 %s", a), 1); /* unread: the counter follows */
    expect_int(CMD("NOTIFY.UNREAD u1"), 0);
    expect_len(CMD("NOTIFY.LIST u1 UNREAD"), 0);
    expect_int(CMD("NOTIFY.DELETE u1 %s", a), 0); /* again: absent */
    expect_int(CMD("NOTIFY.DELETE u1 %s", b), 1); /* read: the counter stays */
    expect_int(CMD("NOTIFY.UNREAD u1"), 0);
    cr_expect_eq(kv_count(c, "notifications:u1:"), 0);
    expect_int(CMD("NOTIFY.DELETE u1 nosuch"), 0);
    expect_error(CMD("NOTIFY.DELETE u1 a:b"), "INVALID");
    expect_error(CMD("NOTIFY.DELETE u:1 %s", a), "INVALID");
    expect_error(CMD("NOTIFY.DELETE u1"), "ERR");
    /* READALL after a delete counts only what is left */
    expect_id(CMD("NOTIFY.CREATE u1 {}"), a);
    expect_id(CMD("NOTIFY.CREATE u1 {}"), b);
    expect_int(CMD("NOTIFY.DELETE u1 %s", a), 1);
    expect_int(CMD("NOTIFY.UNREAD u1"), 1);
    expect_int(CMD("NOTIFY.READALL u1"), 1);
    expect_int(CMD("NOTIFY.UNREAD u1"), 0);
}
