/* ACL in the server: users, the checks at dispatch, ACL LOG, the aclfile.
 * See acl.h; the rules are acl_rules.c's; docs/security.md. */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "server.h"

#define LOG_GROUP_MS 60000 /* equal denials this close are one entry (Redis) */

struct acl_state {
    acl_user **users; /* sorted by name */
    size_t n, cap;
    acl_user *def;    /* "default": always present */
    uint64_t *cats;   /* per table index */
    size_t ncmds;
    acl_log_entry *log; /* newest first */
    size_t nlog, logcap;
    uint64_t next_log_id;
};

/* ---- categories ---------------------------------------------------------------- */

static void set_cat(uint64_t *m, const char *name) {
    int i = acl_cat_find(name, strlen(name));
    assert(i >= 0);
    *m |= 1ull << i;
}

int acl_parse_cats(const char *s, uint64_t *out) {
    *out = 0;
    while (*s) {
        while (*s == ' ') s++;
        if (!*s) break;
        const char *e = s;
        while (*e && *e != ' ') e++;
        if (*s != '@') return -1;
        int i = acl_cat_find(s + 1, (size_t)(e - s - 1));
        if (i < 0) return -1;
        *out |= 1ull << i;
        s = e;
    }
    return 0;
}

uint64_t acl_cmd_cats(const cmd_def *d) {
    uint64_t m = 0;
    if (d->flags & CMD_WRITE) set_cat(&m, "write");
    if (d->flags & CMD_READONLY) set_cat(&m, "read");
    if (d->flags & CMD_ADMIN) {
        set_cat(&m, "admin");
        set_cat(&m, "dangerous");
    }
    set_cat(&m, (d->flags & CMD_FAST) ? "fast" : "slow");
    if (d->flags & CMD_DOMAIN) set_cat(&m, "domain");
    int g = acl_cat_of_group(d->group);
    if (g >= 0) m |= 1ull << g;
    uint64_t extra;
    if (d->acl && acl_parse_cats(d->acl, &extra) == 0) m |= extra;
    return m;
}

/* ---- the command table as the rules' resolver ---------------------------------------- */

static int table_lookup(void *arg, const char *name, size_t len, uint64_t *cats, int *nsubs) {
    (void)arg;
    const cmd_def *d = cmd_lookup(name, len);
    if (!d) return 0;
    *cats = acl_cmd_cats(d);
    *nsubs = cmd_subcommands(d, NULL);
    return 1;
}

static const char *table_sub(void *arg, const char *name, size_t len, int i, uint64_t *cats) {
    (void)arg;
    const cmd_def *d = cmd_lookup(name, len);
    const cmd_def *const *subs;
    if (!d || i >= cmd_subcommands(d, &subs)) return NULL;
    *cats = acl_cmd_cats(subs[i]);
    return subs[i]->name;
}

static const acl_resolver table_resolver = {table_lookup, table_sub, NULL};

const acl_resolver *acl_table_resolver(void) { return &table_resolver; }

/* AUTH, HELLO, QUIT, RESET run for every user, as Redis lets every no-auth
 * command through; subcommands flagged no-auth (CLIENT ID, ...) are still
 * checked. */
static int always_allowed(const cmd_def *d) { return (d->flags & CMD_NOAUTH) && !strchr(d->name, '|'); }

/* The rules compiled to one byte per command, after each change. */
static int compile(acl_state *a, acl_user *u) {
    unsigned char *cache = malloc(a->ncmds ? a->ncmds : 1);
    if (!cache) return -1;
    for (size_t i = 0; i < a->ncmds; i++) {
        const cmd_def *d = cmd_at(i);
        cache[i] = (unsigned char)(always_allowed(d) || acl_user_cmd_ok(u, d->name, strlen(d->name), a->cats[i]));
    }
    free(u->cmd_cache);
    u->cmd_cache = cache;
    return 0;
}

/* ---- users ---------------------------------------------------------------------------- */

static int cmp_name(const acl_user *u, const char *name, size_t len) {
    size_t ul = strlen(u->name);
    int r = memcmp(u->name, name, ul < len ? ul : len);
    return r ? r : (ul < len ? -1 : ul > len);
}

static size_t find_pos(acl_user **users, size_t n, const char *name, size_t len, int *found) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int r = cmp_name(users[mid], name, len);
        if (r == 0) { *found = 1; return mid; }
        if (r < 0) lo = mid + 1;
        else hi = mid;
    }
    *found = 0;
    return lo;
}

static int insert_user(acl_user ***users, size_t *n, size_t *cap, acl_user *u) {
    int found;
    size_t at = find_pos(*users, *n, u->name, strlen(u->name), &found);
    if (found) return 1;
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        acl_user **p = realloc(*users, nc * sizeof *p);
        if (!p) return -1;
        *users = p;
        *cap = nc;
    }
    memmove(*users + at + 1, *users + at, (*n - at) * sizeof **users);
    (*users)[at] = u;
    (*n)++;
    return 0;
}

acl_user *acl_find(server *s, const char *name, size_t len) {
    int found;
    size_t at = find_pos(s->acl->users, s->acl->n, name, len, &found);
    return found ? s->acl->users[at] : NULL;
}

size_t acl_count(server *s) { return s->acl->n; }
acl_user *acl_at(server *s, size_t i) { return i < s->acl->n ? s->acl->users[i] : NULL; }

static int apply_text(acl_user *u, const char *rule, const char **err) {
    return acl_user_apply(u, rule, strlen(rule), &table_resolver, err);
}

/* "default" as Redis creates it: on nopass ~* &* +@all. */
static acl_user *new_default(void) {
    acl_user *u = acl_user_new("default", 7);
    const char *err;
    if (!u) return NULL;
    static const char *const rules[] = {"on", "nopass", "allkeys", "allchannels", "allcommands", NULL};
    for (const char *const *r = rules; *r; r++) {
        int rc = apply_text(u, *r, &err);
        assert(rc == 0);
        (void)rc;
    }
    return u;
}

static void default_password(acl_user *u, const char *pass) {
    const char *err;
    apply_text(u, "resetpass", &err);
    if (!pass) {
        apply_text(u, "nopass", &err);
        return;
    }
    size_t n = strlen(pass);
    char *rule = malloc(n + 2);
    if (!rule) return;
    rule[0] = '>';
    memcpy(rule + 1, pass, n + 1);
    acl_user_apply(u, rule, n + 1, &table_resolver, &err);
    explicit_bzero(rule, n + 2);
    free(rule);
}

void acl_requirepass_changed(server *s) {
    default_password(s->acl->def, s->cfg.requirepass);
    compile(s->acl, s->acl->def);
}

/* ---- the aclfile ----------------------------------------------------------------------- */

typedef struct user_set {
    acl_user **users;
    size_t n, cap;
} user_set;

static void set_free(user_set *set) {
    for (size_t i = 0; i < set->n; i++) acl_user_free(set->users[i]);
    free(set->users);
    set->users = NULL;
    set->n = set->cap = 0;
}

/* Reads "user NAME rule ..." lines (blank lines and '#' comments skipped)
 * into set. -1 with a malloc()ed "path:N: reason" in *err. A missing file
 * is an empty set when missing_ok. */
static int read_file(const char *path, user_set *set, int missing_ok, char **err) {
    FILE *f = fopen(path, "r");
    char msg[512];
    if (!f) {
        if (errno == ENOENT && missing_ok) return 0;
        snprintf(msg, sizeof msg, "cannot open the ACL file '%s': %s", path, strerror(errno));
        *err = strdup(msg);
        return -1;
    }
    char *line = NULL;
    size_t lcap = 0;
    ssize_t got;
    int lineno = 0, rc = 0;
    while ((got = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        char *toks[4096];
        int nt = 0;
        for (char *p = line; *p && nt < 4096;) {
            while (*p && isspace((unsigned char)*p)) *p++ = 0;
            if (!*p) break;
            toks[nt++] = p;
            while (*p && !isspace((unsigned char)*p)) p++;
        }
        if (nt == 0 || toks[0][0] == '#') continue;
        const char *why = NULL, *bad = NULL;
        acl_user *u = NULL;
        if (strcasecmp(toks[0], "user") != 0) why = "the line must start with the 'user' keyword";
        else if (nt < 2) why = "'user' without a name";
        else if (!acl_valid_username(toks[1], strlen(toks[1]))) why = "Usernames can't contain spaces or null characters";
        else if (!(u = acl_user_new(toks[1], strlen(toks[1])))) why = "out of memory";
        for (int i = 2; !why && i < nt; i++)
            if (acl_user_apply(u, toks[i], strlen(toks[i]), &table_resolver, &why) < 0) bad = toks[i];
        if (!why) {
            int r = insert_user(&set->users, &set->n, &set->cap, u);
            if (r > 0) why = "Duplicate user found";
            else if (r < 0) why = "out of memory";
        }
        if (why) {
            acl_user_free(u);
            if (bad) snprintf(msg, sizeof msg, "%s:%d: Error in rule '%.100s': %s", path, lineno, bad, why);
            else snprintf(msg, sizeof msg, "%s:%d: %s", path, lineno, why);
            *err = strdup(msg);
            rc = -1;
            break;
        }
    }
    free(line);
    fclose(f);
    if (rc < 0) set_free(set);
    return rc;
}

/* Installs set as the users: the file's default replaces the default user
 * (else the current one stays); clients follow their user by name, and a
 * client whose user is gone is disconnected. */
static int install(server *s, user_set *set, client *self) {
    acl_state *a = s->acl;
    int found;
    find_pos(set->users, set->n, "default", 7, &found);
    if (!found) {
        acl_user *d = acl_user_dup(a->def);
        if (!d || insert_user(&set->users, &set->n, &set->cap, d) < 0) {
            acl_user_free(d);
            return -1;
        }
    }
    for (size_t i = 0; i < set->n; i++)
        if (compile(a, set->users[i]) < 0) return -1;
    acl_user *newdef = set->users[find_pos(set->users, set->n, "default", 7, &found)];
    for (client *c = s->clients; c; c = c->next) {
        if (!c->user) continue;
        acl_user *nu = NULL;
        size_t at = find_pos(set->users, set->n, c->user->name, strlen(c->user->name), &found);
        if (found) nu = set->users[at];
        if (nu) {
            c->user = nu;
        } else {
            c->user = newdef;
            c->authenticated = 0;
            if (c == self) c->flags |= CL_CLOSE_AFTER_REPLY;
            else client_kill(c);
        }
    }
    user_set old = {a->users, a->n, a->cap};
    a->users = set->users;
    a->n = set->n;
    a->cap = set->cap;
    a->def = newdef;
    set->users = NULL;
    set->n = set->cap = 0;
    set_free(&old);
    return 0;
}

int acl_load(server *s, client *self, char *err, size_t cap) {
    if (!s->cfg.aclfile) {
        snprintf(err, cap, "This Redis instance is not configured to use an ACL file. You may want to specify "
                           "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have "
                           "a Redis configuration file set) in order to store users in the Redis configuration.");
        return -1;
    }
    user_set set = {0};
    char *why = NULL;
    if (read_file(s->cfg.aclfile, &set, 0, &why) < 0) {
        snprintf(err, cap, "%s", why ? why : "out of memory");
        free(why);
        return -1;
    }
    if (install(s, &set, self) < 0) {
        set_free(&set);
        snprintf(err, cap, "out of memory");
        return -1;
    }
    return 0;
}

static int write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int acl_save(server *s, char *err, size_t cap) {
    const char *path = s->cfg.aclfile;
    if (!path) {
        snprintf(err, cap, "This Redis instance is not configured to use an ACL file. You may want to specify "
                           "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have "
                           "a Redis configuration file set) in order to store users in the Redis configuration.");
        return -1;
    }
    /* temp file in the same directory, fsync, rename, fsync the directory:
     * a crash leaves the old file or the new one, never half of one */
    char tmp[4096], dirbuf[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ok = fd >= 0;
    for (size_t i = 0; ok && i < s->acl->n; i++) {
        char *line = acl_user_describe(s->acl->users[i]);
        ok = line && write_all(fd, line, strlen(line)) == 0 && write_all(fd, "\n", 1) == 0;
        free(line);
    }
    if (ok) ok = fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0) ok = 0;
    if (ok) ok = rename(tmp, path) == 0;
    if (!ok) {
        server_log(LL_WARNING, "ACL SAVE to '%s' failed: %s", path, strerror(errno));
        unlink(tmp);
        snprintf(err, cap, "There was an error trying to save the ACLs. Please check the server logs for more "
                           "information");
        return -1;
    }
    snprintf(dirbuf, sizeof dirbuf, "%s", path);
    int dfd = open(dirname(dirbuf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

/* ---- life cycle ------------------------------------------------------------------------------ */

int acl_init(server *s, char **err) {
    acl_state *a = calloc(1, sizeof *a);
    if (!a) goto oom;
    s->acl = a;
    a->ncmds = cmd_count();
    if (!(a->cats = calloc(a->ncmds ? a->ncmds : 1, sizeof *a->cats))) goto oom;
    for (size_t i = 0; i < a->ncmds; i++) a->cats[i] = acl_cmd_cats(cmd_at(i));
    acl_user *def = new_default();
    if (!def || insert_user(&a->users, &a->n, &a->cap, def) != 0) {
        acl_user_free(def);
        goto oom;
    }
    a->def = def;
    if (s->cfg.requirepass) default_password(def, s->cfg.requirepass);
    if (compile(a, def) < 0) goto oom;
    if (s->cfg.aclfile) {
        user_set set = {0};
        if (read_file(s->cfg.aclfile, &set, 1, err) < 0) return -1;
        if (install(s, &set, NULL) < 0) {
            set_free(&set);
            goto oom;
        }
        server_log(LL_NOTICE, "ACL: %zu users from %s", a->n, s->cfg.aclfile);
    }
    return 0;
oom:
    *err = strdup("out of memory");
    return -1;
}

void acl_free(server *s) {
    acl_state *a = s->acl;
    if (!a) return;
    for (size_t i = 0; i < a->n; i++) acl_user_free(a->users[i]);
    free(a->users);
    free(a->cats);
    acl_log_reset(s);
    free(a->log);
    free(a);
    s->acl = NULL;
}

/* ---- clients ------------------------------------------------------------------------------------ */

int acl_default_open(server *s) { return s->acl->def->on && s->acl->def->nopass; }

void acl_client_init(client *c) {
    c->user = c->srv->acl->def;
    c->authenticated = acl_default_open(c->srv);
}

void acl_client_reset(client *c) {
    acl_client_init(c);
    client_auth_changed(c);
}

const char *acl_client_user(const client *c) { return c->user ? c->user->name : "default"; }

int acl_client_is_local(const client *c) {
    if (c->flags & CL_UNIX) return 1;
    return !strncmp(c->addr, "127.", 4) || !strncmp(c->addr, "::1", 3) || !strncmp(c->addr, "[::1]", 5);
}

int acl_protected_allowed(const client *c, int setting) {
    return setting == 1 || (setting == 2 && acl_client_is_local(c));
}

/* ---- ACL LOG ---------------------------------------------------------------------------------------- */

static void entry_free(acl_log_entry *e) {
    free(e->object);
    free(e->username);
    free(e->client_info);
}

static char *client_info(const client *c) {
    char buf[512];
    uint64_t now = now_ms();
    snprintf(buf, sizeof buf, "id=%llu addr=%s laddr=? fd=? name=%s age=%llu idle=%llu flags=%s db=%d user=%s cmd=%s",
             (unsigned long long)c->id, c->addr, c->name ? c->name : "",
             (unsigned long long)((now - c->ctime_ms) / 1000), (unsigned long long)((now - c->last_ms) / 1000),
             c->in_multi ? "x" : "N", c->db, acl_client_user(c), c->cmd ? c->cmd->name : "NULL");
    return strdup(buf);
}

static void log_add(server *s, client *c, const char *reason, const char *context, const char *obj, size_t olen,
                    const char *uname, size_t ulen) {
    acl_state *a = s->acl;
    size_t max = s->cfg.acllog_max_len > 0 ? (size_t)s->cfg.acllog_max_len : 0;
    uint64_t now = now_ms();
    for (size_t i = 0; i < a->nlog; i++) {
        acl_log_entry *e = &a->log[i];
        if (e->reason == reason && e->context == context && strlen(e->object) == olen &&
            !memcmp(e->object, obj, olen) && strlen(e->username) == ulen && !memcmp(e->username, uname, ulen) &&
            now - e->updated_ms <= LOG_GROUP_MS) {
            acl_log_entry m = *e;
            m.count++;
            m.updated_ms = now;
            char *ci = client_info(c);
            if (ci) {
                free(m.client_info);
                m.client_info = ci;
            }
            memmove(a->log + 1, a->log, i * sizeof *a->log);
            a->log[0] = m;
            return;
        }
    }
    if (max == 0) return;
    while (a->nlog >= max) entry_free(&a->log[--a->nlog]);
    if (a->nlog == a->logcap) { /* grows up to the limit (CONFIG SET acllog-max-len) */
        size_t nc = a->logcap ? a->logcap * 2 : 16;
        acl_log_entry *p = realloc(a->log, nc * sizeof *p);
        if (!p) return;
        a->log = p;
        a->logcap = nc;
    }
    acl_log_entry e = {.id = a->next_log_id++, .count = 1, .reason = reason, .context = context,
                       .created_ms = now, .updated_ms = now};
    e.object = strndup(obj, olen);
    e.username = strndup(uname, ulen);
    e.client_info = client_info(c);
    if (!e.object || !e.username || !e.client_info) {
        entry_free(&e);
        return;
    }
    memmove(a->log + 1, a->log, a->nlog * sizeof *a->log);
    a->log[0] = e;
    a->nlog++;
}

size_t acl_log_len(server *s) { return s->acl->nlog; }
const acl_log_entry *acl_log_at(server *s, size_t i) { return i < s->acl->nlog ? &s->acl->log[i] : NULL; }

void acl_log_reset(server *s) {
    for (size_t i = 0; i < s->acl->nlog; i++) entry_free(&s->acl->log[i]);
    s->acl->nlog = 0;
}

/* ---- authentication -------------------------------------------------------------------------------- */

int acl_authenticate(client *c, const char *user, size_t ulen, const char *pass, size_t plen) {
    server *s = c->srv;
    acl_user *u = acl_find(s, user, ulen);
    if (u && u->on && acl_user_pass_ok(u, pass, plen)) {
        c->user = u;
        c->authenticated = 1;
        client_auth_changed(c);
        return 0;
    }
    if (!u) {
        /* the same hashing work for an unknown user as for a known one */
        unsigned char h[ACL_HASH_LEN];
        acl_hash_password(pass, plen, h);
    }
    log_add(s, c, "auth", c->in_multi ? "multi" : "toplevel", "AUTH", 4, user, ulen);
    return -1;
}

/* ---- checks ------------------------------------------------------------------------------------------ */

typedef struct key_walk {
    const acl_user *u;
    int denied;
    char key[300];
    size_t keylen;
} key_walk;

static int visit_key(void *arg, const char *key, size_t len, int is_prefix, int perm) {
    key_walk *w = arg;
    if (acl_user_key_ok(w->u, key, len, is_prefix, perm)) return 0;
    w->denied = 1;
    size_t n = len < sizeof w->key - 2 ? len : sizeof w->key - 2;
    memcpy(w->key, key, n);
    if (is_prefix) w->key[n++] = '*'; /* a range: every key under the prefix */
    w->key[n] = 0;
    w->keylen = n;
    return 1;
}

/* The access a row's key spec needs: read when the value reaches the
 * client, write when the key changes. A write row without explicit key
 * flags needs both (it may reply what it read). */
static int key_perm(const cmd_def *d) {
    if (!d->key_flags) return (d->flags & CMD_WRITE) ? ACL_PERM_RW : ACL_PERM_R;
    int p = 0;
    if (d->key_flags & CMD_KEY_ACCESS) p |= ACL_PERM_R;
    if (d->key_flags & (CMD_KEY_INSERT | CMD_KEY_UPDATE | CMD_KEY_DELETE)) p |= ACL_PERM_W;
    if (!p) p = (d->key_flags & CMD_KEY_RO) ? ACL_PERM_R : ACL_PERM_W;
    return p;
}

static void walk_keys(server *s, const cmd_def *d, const resp_slice *argv, int argc, key_walk *w) {
    if ((d->flags & CMD_DOMAIN) && s->hooks.acl_keys && s->hooks.acl_keys(d, argv, argc, visit_key, w)) return;
    if (d->first_key <= 0) return;
    int last = d->last_key < 0 ? argc + d->last_key : d->last_key;
    int step = d->key_step > 0 ? d->key_step : 1;
    int perm = key_perm(d), prefix = (d->flags & CMD_KEY_PREFIX) != 0;
    for (int i = d->first_key; i <= last && i < argc; i += step)
        if (visit_key(w, argv[i].ptr, argv[i].len, prefix, perm)) return;
    int idx[8], n = d->more_keys ? d->more_keys(argv, argc, idx, 8) : 0;
    for (int j = 0; j < n; j++)
        if (visit_key(w, argv[idx[j]].ptr, argv[idx[j]].len, 0, ACL_PERM_W)) return;
}

int acl_check(client *c, const cmd_def *cmd, int in_multi) {
    server *s = c->srv;
    const acl_user *u = c->user;
    assert(u && u->cmd_cache);
    if (u->allcmds && u->nrules == 0 && u->allkeys) return 0; /* the default user as shipped: no lookup */
    const char *ctx = in_multi ? "multi" : "toplevel";
    const char *uname = u->name;
    c->cmd = cmd; /* named in the entry's client-info */
    if (!u->cmd_cache[cmd_index(cmd)]) {
        log_add(s, c, "command", ctx, cmd->name, strlen(cmd->name), uname, strlen(uname));
        reply_errorf(c, "NOPERM this user has no permissions to run the '%s' command", cmd->name);
        return -1;
    }
    if (u->allkeys) return 0;
    key_walk w = {.u = u};
    walk_keys(s, cmd, c->argv, c->argc, &w);
    if (w.denied) {
        log_add(s, c, "key", ctx, w.key, w.keylen, uname, strlen(uname));
        reply_error(c, "NOPERM this user has no permissions to access one of the keys used as arguments");
        return -1;
    }
    return 0;
}

int acl_channel_ok(client *c, const char *ch, size_t len, int is_pattern) {
    return acl_user_channel_ok(c->user, ch, len, is_pattern);
}

int acl_deny_channel(client *c, const char *ch, size_t len) {
    const char *uname = acl_client_user(c);
    log_add(c->srv, c, "channel", c->in_multi ? "multi" : "toplevel", ch, len, uname, strlen(uname));
    reply_error(c, "NOPERM this user has no permissions to access one of the channels used as arguments");
    return -1;
}

int acl_dryrun(server *s, acl_user *u, const cmd_def *cmd, const resp_slice *argv, int argc, char *msg, size_t cap) {
    if (!u->cmd_cache[cmd_index(cmd)]) {
        snprintf(msg, cap, "This user has no permissions to run the '%s' command", cmd->name);
        return 1;
    }
    if (u->allkeys) return 0;
    key_walk w = {.u = u};
    walk_keys(s, cmd, argv, argc, &w);
    if (w.denied) {
        snprintf(msg, cap, "This user has no permissions to access the '%s' key", w.key);
        return 1;
    }
    return 0;
}

/* ---- SETUSER, DELUSER ---------------------------------------------------------------------------------- */

int acl_setuser(server *s, const char *name, size_t len, const resp_slice *rules, int n, char *err, size_t cap) {
    acl_state *a = s->acl;
    if (!acl_valid_username(name, len)) {
        snprintf(err, cap, "Usernames can't contain spaces or null characters");
        return -1;
    }
    acl_user *u = acl_find(s, name, len);
    acl_user *copy = u ? acl_user_dup(u) : acl_user_new(name, len);
    if (!copy) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        const char *why;
        if (acl_user_apply(copy, rules[i].ptr, rules[i].len, &table_resolver, &why) < 0) {
            char shown[160];
            resp_sanitize(shown, sizeof shown, rules[i].ptr, rules[i].len, 128);
            snprintf(err, cap, "Error in ACL SETUSER modifier '%s': %s", shown, why);
            acl_user_free(copy);
            return -1;
        }
    }
    if (compile(a, copy) < 0) {
        acl_user_free(copy);
        snprintf(err, cap, "out of memory");
        return -1;
    }
    if (u) {
        /* the clients keep their pointer: the new rules move into it */
        acl_user tmp = *u;
        *u = *copy;
        *copy = tmp;
        acl_user_free(copy);
    } else if (insert_user(&a->users, &a->n, &a->cap, copy) != 0) {
        acl_user_free(copy);
        snprintf(err, cap, "out of memory");
        return -1;
    }
    return 0;
}

int acl_deluser(server *s, client *self, const char *name, size_t len) {
    acl_state *a = s->acl;
    int found;
    size_t at = find_pos(a->users, a->n, name, len, &found);
    if (!found) return 0;
    acl_user *u = a->users[at];
    assert(u != a->def);
    for (client *c = s->clients; c; c = c->next) {
        if (c->user != u) continue;
        c->user = a->def;
        c->authenticated = 0;
        if (c == self) c->flags |= CL_CLOSE_AFTER_REPLY;
        else client_kill(c);
    }
    memmove(a->users + at, a->users + at + 1, (a->n - at - 1) * sizeof *a->users);
    a->n--;
    acl_user_free(u);
    return 1;
}
