/* USER.DELETE (SPEC §4.2): the right to be forgotten, in one command's
 * batch, so a crash leaves the user either whole or gone.
 *
 * The command runs the purge of every family (dom_purge_fn, domain.h),
 * registered by each family's init and run by the engine in the fixed
 * order below (domain.c), then replies the number of user-visible (data CF)
 * keys removed. This file knows no family: it names the steps here only.
 * Each step finds the user's data from the uid alone, through per-user prefixes and indexes (a uid holds no ':', so
 * "p:{uid}:" is exactly that user's range), never by a scan of the whole
 * keyspace:
 *
 *   ledger      coins:{uid}:  (ledger.c: the balance goes to
 *               _system through a ledger row first, then the range goes)
 *   donations   donations:{uid}:, meta donstat:{uid}
 *   entities    per namespace of the entity table: P:{uid}:S (tracks,
 *               videos, concerts, news, banners, promotion, pitching,
 *               payments:{uid}:method:), meta count:/owner:/feed:, and the
 *               analytics rows analytics:{tracks|concerts}:{id}: of the
 *               user's tracks and concerts (the entity delete hook)
 *   payments    payments:{uid}:  (the transactions; after the payment
 *               methods above). The meta "paydedup:" records survive: they
 *               hold no personal data and must keep refusing resent webhooks
 *   notify      notifications:{uid}:, meta nunread:{uid}:, ncount:{uid}
 *   messages    the messages uid sent (meta msent:{uid}:), uid's meta lists,
 *               pointers and unread counts; conversations keep the other
 *               side's messages (msg.c)
 *   email       email:{uid}:  (subscriptions and history)
 *   settings    settings:{uid}:
 *   tickets     tickets:{ticket}: of every ticket uid opened (meta tk:{uid}:)
 *   user        users:{uid}:  (base, profile, subscription), and the meta
 *               e-mail index entry "email:" lower(base.email) when it names
 *               uid (read from the base before the base goes)
 *   idemp       meta idemp:{uid}:  (the IDEMP records scoped to uid) and
 *               their reclaim entries, each found from its record (the
 *               engine, domain.c)
 *
 * A user with no data at all is :0; there is no -NOTFOUND, since owners
 * need not exist (SPEC §4) and a retry of a deletion must not fail.
 */
#include "domain.h"
#include "domain_args.h"
#include "server.h"
#include "cmd_userdel.h"

/* USER.DELETE uid
 * :N user-visible keys removed (0 when uid has no data): every document and
 * internal entry of uid in every namespace, in one atomic step. */
static int user_delete(client *c) {
    char uid[DOM_ID_BUF];
    if (dom_id_arg(c, 1, uid) < 0) return -1;
    int64_t removed = 0;
    if (dom_purge_user(DOM(c), uid, &removed) < 0) return -1;
    reply_int(c, removed);
    return 0;
}

static const cmd_def rows[] = {
    {.name = "user.delete", .proc = user_delete, .arity = 2, .flags = CMD_WRITE | CMD_RETRY_SAFE | CMD_DOMAIN | CMD_DB0 | CMD_SYNC, .first_key = 1, .last_key = 1, .key_step = 1,
     .group = "user", .args = "uid",
     .summary = "Deletes every document and internal entry of a user in one atomic step (its coins go to _system; " "the other side of its conversations and payment dedup records stay); replies the keys removed."},
    CMD_TABLE_END,
};

const cmd_family userdel_family = {.name = "userdel", .rows = rows};
