/* ACL rules (Redis 7.0's model): parsing one rule token into a user, the
 * checks a user answers, and the user described back as rules. See
 * acl_rules.h; docs/security.md has the rules and their meaning. */
#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nettle/sha2.h>

#include "acl_rules.h"
#include "util.h"

/* ---- categories ---------------------------------------------------------------- */

static const char *const cats[] = {
    /* Redis's, in Redis's order */
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog",
    "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection",
    "transaction", "scripting",
    /* the domain's (SPEC §4): one per family, and @domain for all of them */
    "users", "content", "coins", "payments", "messaging", "notifications", "email", "support",
    "settings", "analytics", "domain",
    NULL,
};

int acl_cat_count(void) { return (int)(sizeof cats / sizeof cats[0]) - 1; }

const char *acl_cat_name(int i) { return i >= 0 && i < acl_cat_count() ? cats[i] : NULL; }

int acl_cat_find(const char *name, size_t len) {
    for (int i = 0; cats[i]; i++)
        if (strlen(cats[i]) == len && strncasecmp(cats[i], name, len) == 0) return i;
    return -1;
}

/* Groups whose name is not their category's. Any other group whose name is
 * a category (string, hash, list, set, sortedset, pubsub, connection, coins,
 * ...) is that category. */
static const struct { const char *group, *cat; } group_alias[] = {
    {"generic", "keyspace"}, {"kv", "keyspace"}, {"transactions", "transaction"},
    {"sorted_set", "sortedset"}, {"zset", "sortedset"}, {"entity", "content"}, {"user", "users"},
    {"payment", "payments"}, {"messages", "messaging"}, {"tickets", "support"}, {NULL, NULL},
};

int acl_cat_of_group(const char *group) {
    if (!group) return -1;
    for (int i = 0; group_alias[i].group; i++)
        if (!strcmp(group_alias[i].group, group)) return acl_cat_find(group_alias[i].cat, strlen(group_alias[i].cat));
    return acl_cat_find(group, strlen(group));
}

/* ---- passwords ----------------------------------------------------------------------- */

void acl_hash_password(const char *pass, size_t len, unsigned char out[ACL_HASH_LEN]) {
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, len, (const uint8_t *)pass);
    sha256_digest(&ctx, ACL_HASH_LEN, out);
}

void acl_hash_hex(const unsigned char h[ACL_HASH_LEN], char out[2 * ACL_HASH_LEN + 1]) {
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < ACL_HASH_LEN; i++) {
        out[2 * i] = hex[h[i] >> 4];
        out[2 * i + 1] = hex[h[i] & 15];
    }
    out[2 * ACL_HASH_LEN] = 0;
}

int acl_hash_eq(const unsigned char *a, const unsigned char *b) {
    /* volatile: the compiler may not turn the sum into an early exit */
    volatile unsigned char diff = 0;
    for (int i = 0; i < ACL_HASH_LEN; i++) diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

/* 64 lowercase hex digits, as Redis requires for '#' and '!'. */
static int parse_hex_hash(const char *p, size_t n, unsigned char out[ACL_HASH_LEN]) {
    if (n != 2 * ACL_HASH_LEN) return -1;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        int v = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
        if (v < 0) return -1;
        if (i % 2 == 0) out[i / 2] = (unsigned char)(v << 4);
        else out[i / 2] |= (unsigned char)v;
    }
    return 0;
}

int acl_user_pass_ok(const acl_user *u, const char *pass, size_t len) {
    if (u->nopass) return 1;
    unsigned char h[ACL_HASH_LEN];
    acl_hash_password(pass, len, h);
    int ok = 0;
    for (int i = 0; i < u->npass; i++) ok |= acl_hash_eq(u->pass[i], h); /* every hash, no early exit */
    return ok;
}

/* ---- users ------------------------------------------------------------------------- */

int acl_valid_username(const char *name, size_t len) {
    if (len == 0 || len > ACL_NAME_MAX) return 0;
    for (size_t i = 0; i < len; i++)
        if (name[i] == ' ' || name[i] == 0 || name[i] == '\r' || name[i] == '\n' || name[i] == '\t') return 0;
    return 1;
}

acl_user *acl_user_new(const char *name, size_t len) {
    acl_user *u = calloc(1, sizeof *u);
    if (!u || !(u->name = strndup(name, len))) {
        free(u);
        return NULL;
    }
    return u;
}

static void free_patterns(acl_pattern *p, int n) {
    for (int i = 0; i < n; i++) free(p[i].pat);
    free(p);
}

static void clear_rules(acl_user *u) {
    for (int i = 0; i < u->nrules; i++) free(u->rules[i].name);
    free(u->rules);
    u->rules = NULL;
    u->nrules = 0;
}

void acl_user_free(acl_user *u) {
    if (!u) return;
    free(u->name);
    free(u->pass);
    free_patterns(u->keys, u->nkeys);
    free_patterns(u->chans, u->nchans);
    clear_rules(u);
    free(u->cmd_cache);
    free(u);
}

static acl_pattern *dup_patterns(const acl_pattern *p, int n, int *ok) {
    if (n == 0) return NULL;
    acl_pattern *d = calloc((size_t)n, sizeof *d);
    if (!d) { *ok = 0; return NULL; }
    for (int i = 0; i < n; i++) {
        d[i] = p[i];
        if (!(d[i].pat = malloc(p[i].len + 1))) *ok = 0;
        else { memcpy(d[i].pat, p[i].pat, p[i].len); d[i].pat[p[i].len] = 0; }
    }
    return d;
}

acl_user *acl_user_dup(const acl_user *u) {
    acl_user *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    *d = *u;
    d->name = NULL; d->pass = NULL; d->keys = NULL; d->chans = NULL; d->rules = NULL; d->cmd_cache = NULL;
    d->npass = d->nkeys = d->nchans = d->nrules = 0;
    int ok = (d->name = strdup(u->name)) != NULL;
    if (u->npass) {
        if ((d->pass = malloc((size_t)u->npass * sizeof *d->pass))) {
            memcpy(d->pass, u->pass, (size_t)u->npass * sizeof *d->pass);
            d->npass = u->npass;
        } else ok = 0;
    }
    d->keys = dup_patterns(u->keys, u->nkeys, &ok);
    if (d->keys) d->nkeys = u->nkeys;
    d->chans = dup_patterns(u->chans, u->nchans, &ok);
    if (d->chans) d->nchans = u->nchans;
    if (u->nrules) {
        if ((d->rules = calloc((size_t)u->nrules, sizeof *d->rules))) {
            d->nrules = u->nrules;
            for (int i = 0; i < u->nrules; i++) {
                d->rules[i] = u->rules[i];
                if (u->rules[i].name && !(d->rules[i].name = strdup(u->rules[i].name))) ok = 0;
            }
        } else ok = 0;
    }
    if (!ok) {
        acl_user_free(d);
        return NULL;
    }
    return d;
}

/* Redis's messages for the errno values of ACLSetUser. */
#define E_UNKNOWN "Unknown command or category name in ACL"
#define E_SYNTAX "Syntax error"
#define E_KEYS_AFTER_ALL "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
#define E_CHANS_AFTER_ALL "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
#define E_NO_SUCH_PASS "The password you are trying to remove from the user does not exist"
#define E_BAD_HASH "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
#define E_FIRSTARG_SUB "Allowing first-arg of a subcommand is not supported"
#define E_FIRSTARG "Allowing first-arg of a command is not supported (stagekv)"
#define E_SELECTORS "Selectors are not supported (stagekv)"
#define E_OOM "Out of memory"

static int add_hash(acl_user *u, const unsigned char h[ACL_HASH_LEN]) {
    for (int i = 0; i < u->npass; i++)
        if (!memcmp(u->pass[i], h, ACL_HASH_LEN)) return 0; /* a set: once */
    void *p = realloc(u->pass, (size_t)(u->npass + 1) * sizeof *u->pass);
    if (!p) return -1;
    u->pass = p;
    memcpy(u->pass[u->npass++], h, ACL_HASH_LEN);
    return 0;
}

static int del_hash(acl_user *u, const unsigned char h[ACL_HASH_LEN]) {
    for (int i = 0; i < u->npass; i++)
        if (!memcmp(u->pass[i], h, ACL_HASH_LEN)) {
            memmove(u->pass[i], u->pass[i + 1], (size_t)(u->npass - i - 1) * sizeof *u->pass);
            u->npass--;
            return 0;
        }
    return -1;
}

static int add_pattern(acl_pattern **list, int *n, const char *p, size_t len, int perm) {
    for (int i = 0; i < *n; i++)
        if ((*list)[i].len == len && !memcmp((*list)[i].pat, p, len)) {
            (*list)[i].perm |= perm; /* %R~x then %W~x is ~x */
            return 0;
        }
    acl_pattern *np = realloc(*list, (size_t)(*n + 1) * sizeof *np);
    if (!np) return -1;
    *list = np;
    char *s = malloc(len + 1);
    if (!s) return -1;
    memcpy(s, p, len);
    s[len] = 0;
    np[*n] = (acl_pattern){s, len, perm};
    (*n)++;
    return 0;
}

static void reset_keys(acl_user *u) {
    free_patterns(u->keys, u->nkeys);
    u->keys = NULL;
    u->nkeys = 0;
    u->allkeys = 0;
}

static void reset_chans(acl_user *u) {
    free_patterns(u->chans, u->nchans);
    u->chans = NULL;
    u->nchans = 0;
    u->allchannels = 0;
}

/* A rule on "config" covers "config|get"; a rule on "config|get" only that. */
static int rule_covers(const char *rule, const char *name, size_t len) {
    size_t rl = strlen(rule);
    if (rl > len || strncasecmp(rule, name, rl) != 0) return 0;
    return rl == len || name[rl] == '|';
}

int acl_user_cmd_ok(const acl_user *u, const char *name, size_t len, uint64_t catmask) {
    int ok = u->allcmds;
    for (int i = 0; i < u->nrules; i++) {
        const acl_cmd_rule *r = &u->rules[i];
        if (r->cat >= 0 ? (int)((catmask >> r->cat) & 1) : rule_covers(r->name, name, len)) ok = r->allow;
    }
    return ok;
}

/* Whether a new rule on name[0..len) replaces the rule on rule: the same
 * command, or one of its subcommands. */
static int rule_covers_rev(const char *rule, const char *name, size_t len) {
    size_t rl = strlen(rule);
    if (rl < len || strncasecmp(rule, name, len) != 0) return 0;
    return rl == len || rule[len] == '|';
}

/* Whether the rules already give the command (and each of its
 * subcommands) this permission: then a rule for it says nothing new and
 * is not kept, as Redis 7.0 folds "+@all +client|id" into "+@all". */
static int already(const acl_user *u, const acl_resolver *r, const char *name, size_t len, uint64_t catmask,
                   int nsubs, int allow) {
    if (acl_user_cmd_ok(u, name, len, catmask) != allow) return 0;
    for (int i = 0; i < nsubs; i++) {
        uint64_t sc = 0;
        const char *sn = r->sub(r->arg, name, len, i, &sc);
        if (sn && acl_user_cmd_ok(u, sn, strlen(sn), sc) != allow) return 0;
    }
    return 1;
}

/* Drops the rules on this command and its subcommands (or on this
 * category): the new rule replaces them. */
static void drop_rules(acl_user *u, const char *name, size_t len, int cat) {
    int k = 0;
    for (int i = 0; i < u->nrules; i++) {
        acl_cmd_rule *x = &u->rules[i];
        int same = cat >= 0 ? x->cat == cat : (x->cat < 0 && rule_covers_rev(x->name, name, len));
        if (same) free(x->name);
        else u->rules[k++] = *x;
    }
    u->nrules = k;
}

static int push_rule(acl_user *u, int allow, int cat, const char *name, size_t len) {
    acl_cmd_rule *nr = realloc(u->rules, (size_t)(u->nrules + 1) * sizeof *nr);
    if (!nr) return -1;
    u->rules = nr;
    char *s = NULL;
    if (name) {
        if (!(s = malloc(len + 1))) return -1;
        for (size_t i = 0; i < len; i++) s[i] = (char)tolower((unsigned char)name[i]);
        s[len] = 0;
    }
    nr[u->nrules++] = (acl_cmd_rule){allow, cat, s};
    return 0;
}

/* +name / -name: a command or a "parent|sub" subcommand. */
static int apply_cmd(acl_user *u, int allow, const char *name, size_t len, const acl_resolver *r, const char **err) {
    const char *bar = memchr(name, '|', len);
    uint64_t catmask = 0;
    int nsubs = 0;
    if (!r->lookup(r->arg, name, len, &catmask, &nsubs)) {
        if (bar) {
            /* "config|get|x" names a subcommand's first argument; "get|x" a command's */
            const char *bar2 = memchr(bar + 1, '|', len - (size_t)(bar + 1 - name));
            uint64_t c2;
            int n2;
            if (bar2 && r->lookup(r->arg, name, (size_t)(bar2 - name), &c2, &n2)) {
                *err = E_FIRSTARG_SUB;
                return -1;
            }
            if (!bar2 && r->lookup(r->arg, name, (size_t)(bar - name), &c2, &n2) && n2 == 0) {
                *err = E_FIRSTARG;
                return -1;
            }
        }
        *err = E_UNKNOWN;
        return -1;
    }
    drop_rules(u, name, len, -1);
    if (already(u, r, name, len, catmask, nsubs, allow)) return 0;
    if (push_rule(u, allow, -1, name, len) < 0) {
        *err = E_OOM;
        return -1;
    }
    return 0;
}

static int is(const char *tok, size_t len, const char *word) {
    return strlen(word) == len && strncasecmp(tok, word, len) == 0;
}

int acl_user_apply(acl_user *u, const char *tok, size_t len, const acl_resolver *r, const char **err) {
    assert(u && r);
    if (is(tok, len, "on")) u->on = 1;
    else if (is(tok, len, "off")) u->on = 0;
    else if (is(tok, len, "skip-sanitize-payload")) u->sanitize = 2;
    else if (is(tok, len, "sanitize-payload")) u->sanitize = 1;
    else if (is(tok, len, "nopass")) {
        u->nopass = 1;
        free(u->pass);
        u->pass = NULL;
        u->npass = 0;
    } else if (is(tok, len, "resetpass")) {
        u->nopass = 0;
        free(u->pass);
        u->pass = NULL;
        u->npass = 0;
    } else if (is(tok, len, "allkeys") || (len == 2 && !memcmp(tok, "~*", 2))) {
        reset_keys(u);
        u->allkeys = 1;
    } else if (is(tok, len, "resetkeys")) {
        reset_keys(u);
    } else if (is(tok, len, "allchannels") || (len == 2 && !memcmp(tok, "&*", 2))) {
        reset_chans(u);
        u->allchannels = 1;
    } else if (is(tok, len, "resetchannels")) {
        reset_chans(u);
    } else if (is(tok, len, "allcommands") || is(tok, len, "+@all")) {
        clear_rules(u);
        u->allcmds = 1;
    } else if (is(tok, len, "nocommands") || is(tok, len, "-@all")) {
        clear_rules(u);
        u->allcmds = 0;
    } else if (is(tok, len, "reset")) {
        /* resetpass resetkeys resetchannels off sanitize-payload -@all */
        u->nopass = 0;
        free(u->pass);
        u->pass = NULL;
        u->npass = 0;
        reset_keys(u);
        reset_chans(u);
        u->on = 0;
        u->sanitize = 1;
        clear_rules(u);
        u->allcmds = 0;
    } else if (is(tok, len, "clearselectors")) {
        /* no selectors to clear */
    } else if (len && tok[0] == '(') {
        *err = E_SELECTORS;
        return -1;
    } else if (len && (tok[0] == '>' || tok[0] == '<')) {
        unsigned char h[ACL_HASH_LEN];
        acl_hash_password(tok + 1, len - 1, h);
        if (tok[0] == '>') {
            if (add_hash(u, h) < 0) goto oom;
            u->nopass = 0;
        } else if (del_hash(u, h) < 0) {
            *err = E_NO_SUCH_PASS;
            return -1;
        }
    } else if (len && (tok[0] == '#' || tok[0] == '!')) {
        unsigned char h[ACL_HASH_LEN];
        if (parse_hex_hash(tok + 1, len - 1, h) < 0) {
            *err = E_BAD_HASH;
            return -1;
        }
        if (tok[0] == '#') {
            if (add_hash(u, h) < 0) goto oom;
            u->nopass = 0;
        } else if (del_hash(u, h) < 0) {
            *err = E_NO_SUCH_PASS;
            return -1;
        }
    } else if (len && (tok[0] == '~' || tok[0] == '%')) {
        int perm = ACL_PERM_RW;
        size_t at = 1;
        if (tok[0] == '%') {
            perm = 0;
            for (; at < len && tok[at] != '~'; at++) {
                if (tok[at] == 'R' || tok[at] == 'r') perm |= ACL_PERM_R;
                else if (tok[at] == 'W' || tok[at] == 'w') perm |= ACL_PERM_W;
                else { *err = E_SYNTAX; return -1; }
            }
            if (at == len || perm == 0) { *err = E_SYNTAX; return -1; }
            at++;
        }
        if (u->allkeys) {
            *err = E_KEYS_AFTER_ALL;
            return -1;
        }
        if (perm == ACL_PERM_RW && len - at == 1 && tok[at] == '*') {
            reset_keys(u);
            u->allkeys = 1;
        } else if (add_pattern(&u->keys, &u->nkeys, tok + at, len - at, perm) < 0) {
            goto oom;
        }
    } else if (len && tok[0] == '&') {
        if (u->allchannels) {
            *err = E_CHANS_AFTER_ALL;
            return -1;
        }
        if (add_pattern(&u->chans, &u->nchans, tok + 1, len - 1, ACL_PERM_RW) < 0) goto oom;
    } else if (len > 1 && (tok[0] == '+' || tok[0] == '-')) {
        int allow = tok[0] == '+';
        if (tok[1] == '@') {
            int cat = acl_cat_find(tok + 2, len - 2);
            if (cat < 0) {
                *err = E_UNKNOWN;
                return -1;
            }
            drop_rules(u, NULL, 0, cat);
            if (push_rule(u, allow, cat, NULL, 0) < 0) goto oom;
        } else if (apply_cmd(u, allow, tok + 1, len - 1, r, err) < 0) {
            return -1;
        }
    } else {
        *err = E_SYNTAX;
        return -1;
    }
    return 0;
oom:
    *err = E_OOM;
    return -1;
}

/* ---- keys and channels ------------------------------------------------------------ */

/* The pattern's last token is a '*' wildcard: not escaped and not inside
 * a [class] (an unclosed '[' runs to the end). The tokens are glob_match's. */
static int ends_in_star(const char *p, size_t n) {
    size_t i = 0;
    int last_star = 0;
    while (i < n) {
        last_star = 0;
        if (p[i] == '*') {
            last_star = 1;
            i++;
        } else if (p[i] == '[') {
            size_t j = i + 1;
            if (j < n && p[j] == '^') j++;
            while (j < n && p[j] != ']') {
                if (p[j] == '\\' && j + 1 < n) j += 2;
                else if (j + 2 < n && p[j + 1] == '-' && p[j + 2] != ']') j += 3;
                else j++;
            }
            i = j < n ? j + 1 : j;
        } else if (p[i] == '\\' && i + 1 < n) {
            i += 2;
        } else {
            i++;
        }
    }
    return last_star;
}

int acl_user_key_ok(const acl_user *u, const char *key, size_t len, int is_prefix, int perm) {
    if (u->allkeys) return 1;
    for (int i = 0; i < u->nkeys; i++) {
        const acl_pattern *p = &u->keys[i];
        if ((p->perm & perm) != perm) continue;
        if (is_prefix && !ends_in_star(p->pat, p->len)) continue;
        if (glob_match(p->pat, p->len, key, len, 0)) return 1;
    }
    return 0;
}

int acl_user_channel_ok(const acl_user *u, const char *ch, size_t len, int is_pattern) {
    if (u->allchannels) return 1;
    for (int i = 0; i < u->nchans; i++) {
        const acl_pattern *p = &u->chans[i];
        if (is_pattern ? (p->len == len && !memcmp(p->pat, ch, len)) : glob_match(p->pat, p->len, ch, len, 0))
            return 1;
    }
    return 0;
}

/* ---- descriptions ------------------------------------------------------------------ */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->oom = 1; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void sb_str(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_word(sbuf *b, const char *s, size_t n) {
    if (b->len) sb_add(b, " ", 1);
    sb_add(b, s, n);
}

static char *sb_done(sbuf *b) {
    if (b->oom) { free(b->p); return NULL; }
    if (!b->p) return strdup("");
    return b->p;
}

static void describe_cmds(sbuf *b, const acl_user *u) {
    sb_word(b, u->allcmds ? "+@all" : "-@all", 5);
    for (int i = 0; i < u->nrules; i++) {
        const acl_cmd_rule *r = &u->rules[i];
        sb_add(b, r->allow ? " +" : " -", 2);
        if (r->cat >= 0) {
            sb_add(b, "@", 1);
            sb_str(b, acl_cat_name(r->cat));
        } else {
            sb_str(b, r->name);
        }
    }
}

static void describe_keys(sbuf *b, const acl_user *u) {
    if (u->allkeys) {
        sb_word(b, "~*", 2);
        return;
    }
    for (int i = 0; i < u->nkeys; i++) {
        const acl_pattern *p = &u->keys[i];
        sb_word(b, p->perm == ACL_PERM_RW ? "~" : p->perm == ACL_PERM_R ? "%R~" : "%W~",
                p->perm == ACL_PERM_RW ? 1 : 3);
        sb_add(b, p->pat, p->len);
    }
}

static void describe_chans(sbuf *b, const acl_user *u, int with_reset) {
    if (u->allchannels) {
        sb_word(b, "&*", 2);
        return;
    }
    if (with_reset) sb_word(b, "resetchannels", 13);
    for (int i = 0; i < u->nchans; i++) {
        sb_word(b, "&", 1);
        sb_add(b, u->chans[i].pat, u->chans[i].len);
    }
}

char *acl_user_describe_cmds(const acl_user *u) {
    sbuf b = {0};
    describe_cmds(&b, u);
    return sb_done(&b);
}

char *acl_user_describe_keys(const acl_user *u) {
    sbuf b = {0};
    describe_keys(&b, u);
    return sb_done(&b);
}

char *acl_user_describe_chans(const acl_user *u) {
    sbuf b = {0};
    describe_chans(&b, u, 0);
    return sb_done(&b);
}

char *acl_user_describe(const acl_user *u) {
    sbuf b = {0};
    sb_str(&b, "user ");
    sb_str(&b, u->name);
    sb_word(&b, u->on ? "on" : "off", u->on ? 2 : 3);
    if (u->nopass) sb_word(&b, "nopass", 6);
    if (u->sanitize == 2) sb_word(&b, "skip-sanitize-payload", 21);
    else if (u->sanitize == 1) sb_word(&b, "sanitize-payload", 16);
    for (int i = 0; i < u->npass; i++) {
        char hex[2 * ACL_HASH_LEN + 1];
        acl_hash_hex(u->pass[i], hex);
        sb_word(&b, "#", 1);
        sb_add(&b, hex, 2 * ACL_HASH_LEN);
    }
    describe_keys(&b, u);
    describe_chans(&b, u, 1);
    describe_cmds(&b, u);
    return sb_done(&b);
}
