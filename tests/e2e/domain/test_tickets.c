/* End-to-end tests of TICKET.* (SPEC §4.5) against a real stagekv-server:
 * the documents under tickets:{ticket}:details and :messages:{id}, GET with
 * its replies in order, the owner's list and its paging, CLOSE (:1 then
 * :0), replies refused on closed (-INVALID) and missing (-NOTFOUND)
 * tickets, the reply cap, IDEMP scoped to the owner / the ticket, and every
 * bad input refused with nothing written. */
#include "e2e_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SKV_FIXTURE();

TestSuite(tickets, .init = up, .fini = down);

/* The stored text of a key (KV.GET), malloc()ed; NULL when absent. */
static char *kv_get(const char *fmt, const char *a, const char *b) {
    char key[200];
    snprintf(key, sizeof key, fmt, a, b);
    return take_bulk_or_nil(CMD("KV.GET %s", key));
}

/* TICKET.GET t must be exactly the stored details with "messages": the
 * stored replies mids[0..n) in that order. Returns the GET text (free it). */
#define expect_get(t, n, mids) expect_get_l(__LINE__, (t), (n), (mids))
static char *expect_get_l(int line, const char *t, size_t n, char (*mids)[17]) {
    char *details = kv_get("tickets:%s:details%s", t, "");
    cr_assert(details, "line %d: no details for %s", line, t);
    size_t cap = strlen(details) + 64;
    char *want = malloc(cap);
    size_t wl = strlen(details) - 1;
    memcpy(want, details, wl);
    wl += (size_t)sprintf(want + wl, ",\"messages\":[");
    for (size_t i = 0; i < n; i++) {
        char *m = kv_get("tickets:%s:messages:%s", t, mids[i]);
        cr_assert(m, "line %d: no reply %s", line, mids[i]);
        want = realloc(want, cap += strlen(m) + 2);
        wl += (size_t)sprintf(want + wl, "%s%s", i ? "," : "", m);
        free(m);
    }
    sprintf(want + wl, "]}");
    redisReply *r = CMD("TICKET.GET %s", t);
    cr_assert_eq(r->type, REDIS_REPLY_STRING, "line %d: TICKET.GET %s: type %d (%s)", line, t, r->type, rstr(r));
    cr_expect_str_eq(r->str, want, "line %d: TICKET.GET %s", line, t);
    char *got = strdup(r->str);
    freeReplyObject(r);
    free(want);
    free(details);
    return got;
}

Test(tickets, open_stores_the_details) {
    char t[17];
    expect_id(CMD("TICKET.OPEN u1 %s", "{\"subject\":\"Payout missing\",\"body\":\"Since Monday\",\"prio\":2,"
                                       "\"id\":\"forged\",\"user_id\":\"u9\",\"status\":\"closed\",\"created_at\":"
                                       "\"1999\",\"updated_at\":\"1999\",\"closed_at\":\"1999\",\"messages\":[1]}"),
              t);
    char *d = kv_get("tickets:%s:details%s", t, "");
    cr_assert(d);
    /* the server's fields first, then the client's in their order */
    const char *tail = strstr(d, ",\"subject\":");
    cr_assert(tail, "%s", d);
    cr_expect_str_eq(tail, ",\"subject\":\"Payout missing\",\"body\":\"Since Monday\",\"prio\":2}");
    cr_expect_str_eq(jstr(d, "id"), t);
    cr_expect_str_eq(jstr(d, "user_id"), "u1");
    cr_expect_str_eq(jstr(d, "status"), "open");
    cr_expect(is_iso_ms(jstr(d, "created_at")), "%s", d);
    cr_expect_str_eq(jstr(d, "updated_at"), jstr(d, "created_at"));
    cr_expect_eq(jcount(d), 8, "%s", d); /* no closed_at, no messages */
    cr_expect(strncmp(d, "{\"id\":", 6) == 0, "%s", d);
    free(d);
    /* one user-visible key; GET has an empty messages array */
    cr_expect_eq(kv_count(c, "tickets:"), 1);
    free(expect_get(t, 0, NULL));
    char want[1][17];
    memcpy(want[0], t, 17);
    expect_id_list(CMD("TICKET.LIST u1"), 1, want);
    /* a document without a subject is fine; an empty one too */
    expect_id(CMD("TICKET.OPEN u1 {}"), t);
    expect_id(CMD("TICKET.OPEN u1 %s", "{\"body\":\"no subject\"}"), t);
    cr_expect_eq(kv_count(c, "tickets:"), 3);
}

Test(tickets, get_of_missing_ticket_is_nil) {
    expect_nil(CMD("TICKET.GET 0123456789abcdef"));
    expect_nil(CMD("TICKET.GET nope"));
    expect_error(CMD("TICKET.GET a:b"), "INVALID id 'a:b'");
    expect_error(CMD("TICKET.GET"), "ERR wrong number of arguments");
    expect_error(CMD("TICKET.GET a b"), "ERR wrong number of arguments");
}

Test(tickets, replies_come_back_in_order) {
    char t[17], other[17], m[3][17];
    expect_id(CMD("TICKET.OPEN u1 %s", "{\"subject\":\"Help\"}"), t);
    expect_id(CMD("TICKET.OPEN u2 %s", "{\"subject\":\"Other\"}"), other);
    expect_id(CMD("TICKET.REPLY %s staff-1 %s", t, "Looking into it"), m[0]);
    expect_id(CMD("TICKET.REPLY %s u1 %s", t, "h\xc3\xa9llo \"quoted\" \\ \xe2\x9c\x93\n2nd line"), m[1]);
    expect_id(CMD("TICKET.REPLY %s staff-1 %s", t, "Fixed"), m[2]);
    cr_expect(strcmp(m[0], m[1]) < 0 && strcmp(m[1], m[2]) < 0);
    char *g = expect_get(t, 3, m);
    cr_expect(strstr(g, "\"messages\":[{\"id\":"), "%s", g);
    free(g);
    /* each reply: exactly id, ticket, author, text, created_at */
    const char *authors[] = {"staff-1", "u1", "staff-1"};
    const char *texts[] = {"Looking into it", "h\xc3\xa9llo \"quoted\" \\ \xe2\x9c\x93\n2nd line", "Fixed"};
    char *last_created = NULL;
    for (int i = 0; i < 3; i++) {
        char *r = kv_get("tickets:%s:messages:%s", t, m[i]);
        cr_assert(r);
        cr_expect_str_eq(jstr(r, "id"), m[i]);
        cr_expect_str_eq(jstr(r, "ticket"), t);
        cr_expect_str_eq(jstr(r, "author"), authors[i]);
        cr_expect_str_eq(jstr(r, "text"), texts[i], "%s", r);
        cr_expect(is_iso_ms(jstr(r, "created_at")), "%s", r);
        cr_expect_eq(jcount(r), 5, "%s", r);
        free(last_created);
        last_created = strdup(jstr(r, "created_at"));
        free(r);
    }
    /* the details moved their updated_at to the last reply */
    char *d = kv_get("tickets:%s:details%s", t, "");
    cr_expect_str_eq(jstr(d, "updated_at"), last_created, "%s", d);
    cr_expect_str_eq(jstr(d, "status"), "open");
    free(d);
    free(last_created);
    /* the other ticket has none */
    free(expect_get(other, 0, NULL));
    cr_expect_eq(kv_count(c, "tickets:"), 5);
}

Test(tickets, reply_to_missing_or_closed_ticket) {
    char t[17], m[1][17];
    expect_error_eq(CMD("TICKET.REPLY 0123456789abcdef u1 hello"), "NOTFOUND ticket '0123456789abcdef'");
    expect_error_eq(CMD("TICKET.REPLY nope u1 hello"), "NOTFOUND ticket 'nope'");
    cr_expect_eq(kv_count(c, "tickets:"), 0);
    expect_id(CMD("TICKET.OPEN u1 {}"), t);
    expect_id(CMD("TICKET.REPLY %s u1 before", t), m[0]);
    expect_int(CMD("TICKET.CLOSE %s", t), 1);
    char msg[100];
    snprintf(msg, sizeof msg, "INVALID ticket '%s' is closed", t);
    expect_error_eq(CMD("TICKET.REPLY %s u1 after", t), msg);
    expect_error_eq(CMD("TICKET.REPLY %s staff after", t), msg);
    /* nothing was added */
    char *g = expect_get(t, 1, m);
    cr_expect(!strstr(g, "after"), "%s", g);
    free(g);
    cr_expect_eq(kv_count(c, "tickets:"), 2);
}

Test(tickets, close_twice) {
    char t[17];
    expect_id(CMD("TICKET.OPEN u1 %s", "{\"subject\":\"s\"}"), t);
    char *before = kv_get("tickets:%s:details%s", t, "");
    expect_int(CMD("TICKET.CLOSE %s", t), 1);
    char *after = kv_get("tickets:%s:details%s", t, "");
    cr_expect_str_eq(jstr(after, "status"), "closed");
    cr_expect(is_iso_ms(jstr(after, "closed_at")), "%s", after);
    cr_expect_str_eq(jstr(after, "updated_at"), jstr(after, "closed_at"));
    cr_expect_str_eq(jstr(after, "created_at"), jstr(before, "created_at"));
    cr_expect_str_eq(jstr(after, "subject"), "s");
    cr_expect_str_eq(jstr(after, "user_id"), "u1");
    cr_expect_eq(jcount(after), jcount(before) + 1, "%s", after);
    /* a second CLOSE changes nothing */
    expect_int(CMD("TICKET.CLOSE %s", t), 0);
    char *again = kv_get("tickets:%s:details%s", t, "");
    cr_expect_str_eq(again, after);
    free(before);
    free(after);
    free(again);
    /* the owner's list shows the closed ticket */
    redisReply *r = ARRAY("TICKET.LIST u1");
    cr_assert_eq(r->elements, 1);
    cr_expect_str_eq(jstr(r->element[0]->str, "status"), "closed");
    freeReplyObject(r);
    expect_error_eq(CMD("TICKET.CLOSE 0123456789abcdef"), "NOTFOUND ticket '0123456789abcdef'");
    expect_error(CMD("TICKET.CLOSE a:b"), "INVALID id 'a:b'");
    expect_error(CMD("TICKET.CLOSE"), "ERR wrong number of arguments");
    expect_error(CMD("TICKET.CLOSE %s x", t), "ERR wrong number of arguments");
    cr_expect_eq(kv_count(c, "tickets:"), 1);
}

static const char *const bad_ids[] = {"a:b", "a b", "\xc3\xa9t\xc3\xa9", "", "_system", "a\nb", "a*", NULL};

Test(tickets, bad_arguments_write_nothing) {
    char t[17], id65[66];
    memset(id65, 'a', 65);
    id65[65] = 0;
    expect_id(CMD("TICKET.OPEN u1 {}"), t);
    long long keys = kv_count(c, "tickets:");
    for (int i = 0; bad_ids[i]; i++) {
        char want[100];
        /* the message names the id (control bytes shown escaped): check the prefix */
        snprintf(want, sizeof want, "INVALID id '");
        expect_error(CMD("TICKET.OPEN %s {}", bad_ids[i]), want);
        expect_error(CMD("TICKET.LIST %s", bad_ids[i]), want);
        expect_error(CMD("TICKET.REPLY %s u1 hi", bad_ids[i]), want);
        expect_error(CMD("TICKET.REPLY %s %s hi", t, bad_ids[i]), want); /* the author is an id */
        expect_error(CMD("TICKET.CLOSE %s", bad_ids[i]), want);
        expect_error(CMD("TICKET.GET %s", bad_ids[i]), want);
    }
    expect_error(CMD("TICKET.OPEN %s {}", id65), "INVALID id 'aaaa");
    expect_error(CMD("TICKET.REPLY %s %s hi", t, id65), "INVALID id '");
    expect_error(CMD("TICKET.REPLY %s u1 hi", id65), "INVALID id 'aaaa");
    /* documents */
    expect_error(CMD("TICKET.OPEN u1 %s", "{\"subject\":"), "INVALID invalid JSON");
    expect_error(CMD("TICKET.OPEN u1 %s", "[1,2]"), "INVALID document must be a JSON object");
    expect_error(CMD("TICKET.OPEN u1 %s", "\"text\""), "INVALID document must be a JSON object");
    expect_error(CMD("TICKET.OPEN u1 %s", "{\"a\":1,\"a\":2}"), "INVALID duplicate member name 'a'");
    expect_error(CMD("TICKET.OPEN u1 %b", "{\"a\":\"\xff\"}", (size_t)8), "INVALID invalid JSON");
    expect_error(CMD("TICKET.OPEN u1 %s", "{\"a\":\"\\u0000\"}"), "INVALID");
    static const char *const bad_subjects[] = {"{\"subject\":1}", "{\"subject\":null}", "{\"subject\":\"\"}",
                                               "{\"subject\":[\"x\"]}", "{\"subject\":{}}", NULL};
    for (int i = 0; bad_subjects[i]; i++)
        expect_error_eq(CMD("TICKET.OPEN u1 %s", bad_subjects[i]),
                        "INVALID \"subject\" must be a string of 1 to 256 bytes without NUL");
    char subj[300];
    snprintf(subj, sizeof subj, "{\"subject\":\"%0257d\"}", 0);
    expect_error(CMD("TICKET.OPEN u1 %s", subj), "INVALID \"subject\"");
    snprintf(subj, sizeof subj, "{\"subject\":\"%0256d\"}", 0);
    char ok[17];
    expect_id(CMD("TICKET.OPEN u9 %s", subj), ok); /* 256 bytes: the limit */
    keys++;
    /* reply texts: 1..16384 bytes of UTF-8 without NUL */
    const char *text_err = "INVALID text must be 1 to 16384 bytes of UTF-8 text without NUL";
    expect_error_eq(CMD("TICKET.REPLY %s u1 %s", t, ""), text_err);
    expect_error_eq(CMD("TICKET.REPLY %s u1 %b", t, "a\0b", (size_t)3), text_err);
    expect_error_eq(CMD("TICKET.REPLY %s u1 %b", t, "\xff\xfe", (size_t)2), text_err);
    expect_error_eq(CMD("TICKET.REPLY %s u1 %b", t, "\xc3", (size_t)1), text_err);
    char *big = malloc(16386);
    memset(big, 'x', 16385);
    big[16385] = 0;
    expect_error_eq(CMD("TICKET.REPLY %s u1 %s", t, big), text_err);
    big[16384] = 0;
    char m[17];
    expect_id(CMD("TICKET.REPLY %s u1 %s", t, big), m); /* 16384 bytes: the limit */
    keys++;
    free(big);
    /* options and arity */
    expect_error_eq(CMD("TICKET.OPEN u1 {} extra"), "ERR syntax error");
    expect_error_eq(CMD("TICKET.OPEN u1 {} LIMIT 5"), "ERR syntax error");
    expect_error_eq(CMD("TICKET.REPLY %s u1 hi extra", t), "ERR syntax error");
    expect_error(CMD("TICKET.OPEN u1"), "ERR wrong number of arguments");
    expect_error(CMD("TICKET.REPLY %s u1", t), "ERR wrong number of arguments");
    expect_error(CMD("TICKET.LIST"), "ERR wrong number of arguments");
    cr_expect_eq(kv_count(c, "tickets:"), keys);
    expect_len(CMD("TICKET.LIST u1"), 1);
}

Test(tickets, list_pages_newest_first) {
    char t[6][17], o[2][17];
    for (int i = 0; i < 5; i++) {
        expect_id(CMD("TICKET.OPEN u1 {\"n\":%d}", i), t[i]);
        if (i < 2) expect_id(CMD("TICKET.OPEN u2 {}"), o[i]);
    }
    char all[5][17], p[2][17];
    for (int i = 0; i < 5; i++) memcpy(all[i], t[4 - i], 17);
    expect_id_list(CMD("TICKET.LIST u1"), 5, all);
    expect_id_list(CMD("TICKET.LIST u1 LIMIT 1000"), 5, all);
    expect_id_list(CMD("TICKET.LIST u1 LIMIT 2"), 2, all);
    expect_id_list(CMD("TICKET.LIST u1 AFTER %s LIMIT 2", all[1]), 2, all + 2);
    expect_id_list(CMD("TICKET.LIST u1 limit 2 after %s", all[3]), 1, all + 4);
    expect_id_list(CMD("TICKET.LIST u1 AFTER %s", all[4]), 0, all);
    /* AFTER need not exist: before or after every ticket */
    expect_id_list(CMD("TICKET.LIST u1 AFTER ffffffffffffffff"), 5, all);
    expect_id_list(CMD("TICKET.LIST u1 AFTER 0"), 0, all);
    /* the documents are the details, with the client's fields */
    redisReply *r = ARRAY("TICKET.LIST u1 LIMIT 1");
    cr_assert_eq(r->elements, 1);
    cr_expect_eq(jint(r->element[0]->str, "n"), 4);
    char *d = kv_get("tickets:%s:details%s", t[4], "");
    cr_expect_str_eq(r->element[0]->str, d);
    free(d);
    freeReplyObject(r);
    /* other owners */
    memcpy(p[0], o[1], 17);
    memcpy(p[1], o[0], 17);
    expect_id_list(CMD("TICKET.LIST u2"), 2, p);
    expect_id_list(CMD("TICKET.LIST nobody"), 0, p);
    /* a reply does not reorder the list (ordered by ticket id) */
    char m[17];
    expect_id(CMD("TICKET.REPLY %s u1 bump", t[0]), m);
    expect_id_list(CMD("TICKET.LIST u1"), 5, all);
    /* bad paging */
    static const char *const limits[] = {"0", "-1", "1001", "abc", "", "1.5", NULL};
    for (int i = 0; limits[i]; i++) expect_error(CMD("TICKET.LIST u1 LIMIT %s", limits[i]), "INVALID LIMIT");
    expect_error(CMD("TICKET.LIST u1 AFTER a:b"), "INVALID id 'a:b'");
    expect_error_eq(CMD("TICKET.LIST u1 LIMIT"), "ERR syntax error");
    expect_error_eq(CMD("TICKET.LIST u1 AFTER"), "ERR syntax error");
    expect_error_eq(CMD("TICKET.LIST u1 UNREAD"), "ERR syntax error");
    expect_error_eq(CMD("TICKET.LIST u1 FOO 1"), "ERR syntax error");
}

Test(tickets, idemp_open_scoped_to_the_owner) {
    char a[17], b[17], x[17];
    expect_id(CMD("TICKET.OPEN u1 %s IDEMP k1", "{\"subject\":\"s\"}"), a);
    expect_id(CMD("TICKET.OPEN u1 %s IDEMP k1", "{\"subject\":\"s\"}"), b);
    cr_expect_str_eq(a, b);
    expect_error(CMD("TICKET.OPEN u1 %s IDEMP k1", "{\"subject\":\"other\"}"), "CONFLICT");
    expect_len(CMD("TICKET.LIST u1"), 1);
    /* another owner, same key: its own ticket */
    expect_id(CMD("TICKET.OPEN u2 %s IDEMP k1", "{\"subject\":\"s\"}"), x);
    cr_expect_str_neq(x, a);
    /* a failed call records nothing: the key is still free */
    expect_error(CMD("TICKET.OPEN u1 %s IDEMP k2", "{\"subject\":1}"), "INVALID");
    expect_id(CMD("TICKET.OPEN u1 %s IDEMP k2", "{\"subject\":\"t\"}"), x);
    expect_len(CMD("TICKET.LIST u1"), 2);
    cr_expect_eq(kv_count(c, "tickets:"), 3);
}

Test(tickets, idemp_reply_scoped_to_the_ticket) {
    char t[17], t2[17], m[1][17], again[17], x[17];
    expect_id(CMD("TICKET.OPEN u1 {}"), t);
    expect_id(CMD("TICKET.OPEN u1 {}"), t2);
    expect_id(CMD("TICKET.REPLY %s staff hello IDEMP r1", t), m[0]);
    expect_id(CMD("TICKET.REPLY %s staff hello IDEMP r1", t), again);
    cr_expect_str_eq(m[0], again);
    expect_error(CMD("TICKET.REPLY %s staff bye IDEMP r1", t), "CONFLICT");
    expect_error(CMD("TICKET.REPLY %s other hello IDEMP r1", t), "CONFLICT");
    free(expect_get(t, 1, m));
    /* the same key on another ticket is another scope */
    expect_id(CMD("TICKET.REPLY %s staff hello IDEMP r1", t2), x);
    cr_expect_str_neq(x, m[0]);
    /* a refused reply (closed ticket) records nothing; the replay of a
     * recorded one still answers after the close */
    expect_int(CMD("TICKET.CLOSE %s", t2), 1);
    expect_error(CMD("TICKET.REPLY %s staff late IDEMP r2", t2), "INVALID ticket");
    expect_error(CMD("TICKET.REPLY %s staff late IDEMP r2", t2), "INVALID ticket");
    expect_bulk(CMD("TICKET.REPLY %s staff hello IDEMP r1", t2), x);
    expect_error(CMD("TICKET.REPLY 0123456789abcdef staff hi IDEMP r3"), "NOTFOUND");
    cr_expect_eq(kv_count(c, "tickets:"), 4);
}

Test(tickets, reply_cap) {
    char t[17], last[17];
    expect_id(CMD("TICKET.OPEN u1 {}"), t);
    for (int i = 0; i < 999; i++) redisAppendCommand(c, "TICKET.REPLY %s staff r%d", t, i);
    for (int i = 0; i < 999; i++) {
        redisReply *r;
        cr_assert_eq(redisGetReply(c, (void **)&r), REDIS_OK);
        cr_assert_eq(r->type, REDIS_REPLY_STRING, "reply %d: %s", i, rstr(r));
        freeReplyObject(r);
    }
    expect_id(CMD("TICKET.REPLY %s staff r999", t), last);
    char msg[100];
    snprintf(msg, sizeof msg, "INVALID ticket '%s' has the maximum of 1000 replies", t);
    expect_error_eq(CMD("TICKET.REPLY %s staff r1000", t), msg);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "tickets:%s:messages:", t);
    cr_expect_eq(kv_count(c, prefix), 1000);
    /* GET returns all 1000, oldest first */
    redisReply *r = CMD("TICKET.GET %s", t);
    cr_assert_eq(r->type, REDIS_REPLY_STRING);
    const char *p0 = strstr(r->str, "\"text\":\"r0\""), *p1 = strstr(r->str, "\"text\":\"r1\""),
               *p999 = strstr(r->str, "\"text\":\"r999\"");
    cr_expect(p0 && p1 && p999 && p0 < p1 && p1 < p999);
    cr_expect(!strstr(r->str, "r1000"));
    freeReplyObject(r);
    /* closing still works */
    expect_int(CMD("TICKET.CLOSE %s", t), 1);
}

/* ---- TICKET.REOPEN and TICKET.OPEN.LIST --------------------------------------------- */

Test(tickets, reopen) {
    char t[17];
    expect_id(CMD("TICKET.OPEN u1 {\"subject\":\"help\"}"), t);
    expect_int(CMD("TICKET.REOPEN %s", t), 0); /* already open */
    expect_int(CMD("TICKET.CLOSE %s", t), 1);
    expect_error(CMD("TICKET.REPLY %s staff hi", t), "INVALID");
    expect_int(CMD("TICKET.REOPEN %s", t), 1);
    expect_int(CMD("TICKET.REOPEN %s", t), 0);
    char *d = take_bulk(CMD("TICKET.GET %s", t));
    cr_expect_str_eq(jstr(d, "status"), "open");
    cr_expect_eq(jtype(d, "closed_at"), 0, "%s", d);
    cr_expect(is_iso_ms(jstr(d, "reopened_at")), "%s", d);
    cr_expect_str_eq(jstr(d, "subject"), "help");
    free(d);
    char r[17];
    expect_id(CMD("TICKET.REPLY %s staff back", t), r); /* an open ticket takes replies again */
    expect_error(CMD("TICKET.REOPEN nosuch"), "NOTFOUND");
    expect_error(CMD("TICKET.REOPEN a:b"), "INVALID");
    expect_error(CMD("TICKET.REOPEN"), "ERR");
    expect_error(CMD("TICKET.REOPEN %s x", t), "ERR");
}

Test(tickets, open_list_follows_open_close_reopen_and_purge) {
    char t1[17], t2[17], t3[17], t4[17];
    expect_id(CMD("TICKET.OPEN u1 {}"), t1);
    expect_id(CMD("TICKET.OPEN u2 {}"), t2);
    expect_id(CMD("TICKET.OPEN u1 {}"), t3);
    expect_id(CMD("TICKET.OPEN u3 {}"), t4);
    expect_docs(CMD("TICKET.OPEN.LIST"), "id", 4, t4, t3, t2, t1);
    expect_docs(CMD("TICKET.OPEN.LIST LIMIT 2"), "id", 2, t4, t3);
    expect_docs(CMD("TICKET.OPEN.LIST AFTER %s LIMIT 2", t3), "id", 2, t2, t1);
    expect_int(CMD("TICKET.CLOSE %s", t3), 1);
    expect_int(CMD("TICKET.CLOSE %s", t1), 1);
    expect_docs(CMD("TICKET.OPEN.LIST"), "id", 2, t4, t2);
    expect_int(CMD("TICKET.REOPEN %s", t1), 1);
    expect_docs(CMD("TICKET.OPEN.LIST"), "id", 3, t4, t2, t1);
    take_int(CMD("USER.DELETE u1"));
    expect_docs(CMD("TICKET.OPEN.LIST"), "id", 2, t4, t2);
    expect_error(CMD("TICKET.OPEN.LIST LIMIT 1001"), "INVALID");
    expect_error(CMD("TICKET.OPEN.LIST AFTER a:b"), "INVALID");
    expect_error(CMD("TICKET.OPEN.LIST FOO"), "ERR syntax error");
    /* the index is not a key */
    cr_expect_eq(kv_count(c, "tkopen:"), 0);
    /* an admin command */
    redisReply *r = CMD("COMMAND INFO ticket.open.list");
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->element[0]->type, REDIS_REPLY_ARRAY);
    int admin = 0;
    redisReply *fl = r->element[0]->element[2];
    for (size_t i = 0; i < fl->elements; i++) admin |= !strcmp(fl->element[i]->str, "admin");
    cr_expect(admin, "TICKET.OPEN.LIST is not flagged admin");
    freeReplyObject(r);
}
