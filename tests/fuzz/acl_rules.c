/* Fuzz target: the ACL rule parser and matcher (server/core/acl_rules.c:
 * acl_user_apply, the describe functions, acl_user_dup, the key, channel,
 * command and password checks).
 *
 * Input: tokens separated by ' ', '\n' or NUL, applied in order to a new
 * user over a small fake command table; the last token is also a probe
 * key/channel/command. Invariants: a failing token has an error text and
 * leaves the user as it was (its description unchanged); the description
 * applied to a new user gives the same user (when no pattern holds a
 * separator): the same flags, passwords, keys and channels, and the same
 * answer for every command (the command rules' text may differ: folding
 * depends on the order rules came in, as in Redis); a copy describes the
 * same; allkeys/allchannels allow anything; a
 * prefix allowed is a prefix whose every extension is allowed (the '*'
 * absorbs it); a read-write allowance implies read and write. */
#include <string.h>
#include <strings.h>

#include "acl_rules.h"
#include "fuzz.h"

static const struct { const char *name; const char *cats; } fake[] = {
    {"get", "read string fast"},       {"set", "write string slow"},
    {"config", "slow"},                {"config|get", "admin dangerous slow"},
    {"config|set", "admin dangerous slow"}, {"client", "slow connection"},
    {"client|id", "slow connection"},  {"coins.add", "write coins domain slow"},
    {NULL, NULL},
};

static uint64_t cats_of(int i) {
    uint64_t m = 0;
    const char *s = fake[i].cats;
    while (*s) {
        const char *e = strchr(s, ' ');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        int c = acl_cat_find(s, n);
        FUZZ_CHECK(c >= 0);
        m |= 1ull << c;
        s += n + (e ? 1 : 0);
    }
    return m;
}

static int f_lookup(void *arg, const char *name, size_t len, uint64_t *cats, int *nsubs) {
    (void)arg;
    for (int i = 0; fake[i].name; i++)
        if (strlen(fake[i].name) == len && !strncasecmp(fake[i].name, name, len)) {
            *cats = cats_of(i);
            *nsubs = 0;
            for (int j = 0; fake[j].name; j++)
                if (strlen(fake[j].name) > len && !strncmp(fake[j].name, fake[i].name, len) && fake[j].name[len] == '|')
                    (*nsubs)++;
            return 1;
        }
    return 0;
}

static const char *f_sub(void *arg, const char *name, size_t len, int k, uint64_t *cats) {
    (void)arg;
    for (int j = 0; fake[j].name; j++)
        if (strlen(fake[j].name) > len && !strncasecmp(fake[j].name, name, len) && fake[j].name[len] == '|' && k-- == 0) {
            *cats = cats_of(j);
            return fake[j].name;
        }
    return NULL;
}

static const acl_resolver R = {f_lookup, f_sub, NULL};

static int is_sep(uint8_t b) { return b == ' ' || b == '\n' || b == 0; }

/* Whether every key and channel pattern is free of separators (so the
 * description splits back into the same tokens). */
static int splittable(const acl_user *u) {
    for (int i = 0; i < u->nkeys; i++)
        for (size_t j = 0; j < u->keys[i].len; j++)
            if (is_sep((uint8_t)u->keys[i].pat[j]) || u->keys[i].pat[j] == '\t' || u->keys[i].pat[j] == '\r') return 0;
    for (int i = 0; i < u->nchans; i++)
        for (size_t j = 0; j < u->chans[i].len; j++)
            if (is_sep((uint8_t)u->chans[i].pat[j]) || u->chans[i].pat[j] == '\t' || u->chans[i].pat[j] == '\r') return 0;
    return 1;
}

static void check_round_trip(const acl_user *u) {
    char *d = acl_user_describe(u);
    FUZZ_CHECK(d);
    acl_user *v = acl_user_new(u->name, strlen(u->name));
    FUZZ_CHECK(v);
    size_t n = strlen(d);
    int word = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && d[j] != ' ') j++;
        if (word >= 2) { /* after "user NAME" */
            const char *err = NULL;
            int rc = acl_user_apply(v, d + i, j - i, &R, &err);
            if (rc != 0) fprintf(stderr, "token '%.*s' of '%s': %s\n", (int)(j - i), d + i, d, err);
            FUZZ_CHECK(rc == 0);
        }
        word++;
        i = j + 1;
    }
    char *d2 = acl_user_describe(v);
    FUZZ_CHECK(d2);
    /* everything before the command rules (" +@all ..." or " -@all ...") */
    const char *c1 = strstr(d, " +@all"), *c2 = strstr(d2, " +@all");
    if (!c1) c1 = strstr(d, " -@all");
    if (!c2) c2 = strstr(d2, " -@all");
    FUZZ_CHECK(c1 && c2 && c1 - d == c2 - d2 && memcmp(d, d2, (size_t)(c1 - d)) == 0);
    acl_user *w = acl_user_dup(u);
    FUZZ_CHECK(w);
    char *d3 = acl_user_describe(w);
    FUZZ_CHECK(d3 && strcmp(d, d3) == 0);
    /* the same command answers from the copy and the original */
    for (int i = 0; fake[i].name; i++) {
        size_t l = strlen(fake[i].name);
        FUZZ_CHECK(acl_user_cmd_ok(u, fake[i].name, l, cats_of(i)) == acl_user_cmd_ok(v, fake[i].name, l, cats_of(i)));
    }
    free(d);
    free(d2);
    free(d3);
    acl_user_free(v);
    acl_user_free(w);
}

static void probe(const acl_user *u, const char *p, size_t n) {
    for (int perm = 1; perm <= 3; perm++) {
        int whole = acl_user_key_ok(u, p, n, 0, perm);
        int pre = acl_user_key_ok(u, p, n, 1, perm);
        if (u->allkeys) FUZZ_CHECK(whole && pre);
        if (pre) {
            /* every key under an allowed prefix is allowed */
            char ext[300];
            size_t m = n < 256 ? n : 256;
            if (m == n) {
                memcpy(ext, p, m);
                memcpy(ext + m, "x:*?[", 5);
                for (size_t k = 0; k <= 5; k++) FUZZ_CHECK(acl_user_key_ok(u, ext, m + k, 0, perm));
            }
        }
    }
    if (acl_user_key_ok(u, p, n, 0, ACL_PERM_RW))
        FUZZ_CHECK(acl_user_key_ok(u, p, n, 0, ACL_PERM_R) && acl_user_key_ok(u, p, n, 0, ACL_PERM_W));
    int ch = acl_user_channel_ok(u, p, n, 0), pat = acl_user_channel_ok(u, p, n, 1);
    if (u->allchannels) FUZZ_CHECK(ch && pat);
    (void)acl_user_cmd_ok(u, p, n, 0);
    (void)acl_user_pass_ok(u, p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    acl_user *u = acl_user_new("fuzz", 4);
    FUZZ_CHECK(u);
    size_t i = 0, last = 0, lastlen = 0;
    int ntok = 0;
    while (i < size && ntok < 64) {
        while (i < size && is_sep(data[i])) i++;
        size_t j = i;
        while (j < size && !is_sep(data[j])) j++;
        if (j == i) break;
        char *before = acl_user_describe(u);
        FUZZ_CHECK(before);
        const char *err = NULL;
        if (acl_user_apply(u, (const char *)data + i, j - i, &R, &err) != 0) {
            FUZZ_CHECK(err && err[0]);
            char *after = acl_user_describe(u);
            FUZZ_CHECK(after && strcmp(before, after) == 0);
            free(after);
        }
        free(before);
        last = i;
        lastlen = j - i;
        ntok++;
        i = j;
    }
    if (splittable(u)) check_round_trip(u);
    probe(u, (const char *)data + last, lastlen);
    acl_user_free(u);
    return 0;
}
