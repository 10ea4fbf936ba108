/* Pub/sub commands: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBLISH,
 * PUBSUB CHANNELS/NUMSUB/NUMPAT (one row per subcommand), and MONITOR.
 * The registries, delivery and limits are core's (core/pubsub.c). */
#include <string.h>

#include "server.h"
#include "cmd_pubsub.h"

/* ACL's channel check over argv[from..to): replies NOPERM (as Redis, with
 * an ACL LOG entry) and returns -1 when any is denied, before anything
 * changes. */
static int channels_allowed(client *c, int from, int to, int is_pattern) {
    for (int i = from; i < to; i++)
        if (!pubsub_channel_allowed(c, c->argv[i].ptr, c->argv[i].len, is_pattern))
            return acl_deny_channel(c, c->argv[i].ptr, c->argv[i].len);
    return 0;
}

/* SUBSCRIBE channel [channel ...] */
static int subscribe_command(client *c) {
    if (channels_allowed(c, 1, c->argc, 0) < 0) return -1;
    for (int i = 1; i < c->argc; i++) pubsub_subscribe(c, c->argv[i].ptr, c->argv[i].len);
    return 0;
}

/* PSUBSCRIBE pattern [pattern ...] */
static int psubscribe_command(client *c) {
    if (channels_allowed(c, 1, c->argc, 1) < 0) return -1;
    for (int i = 1; i < c->argc; i++) pubsub_psubscribe(c, c->argv[i].ptr, c->argv[i].len);
    return 0;
}

/* UNSUBSCRIBE [channel ...] */
static int unsubscribe_command(client *c) {
    if (c->argc == 1) pubsub_unsubscribe_all(c);
    for (int i = 1; i < c->argc; i++) pubsub_unsubscribe(c, c->argv[i].ptr, c->argv[i].len);
    return 0;
}

/* PUNSUBSCRIBE [pattern ...] */
static int punsubscribe_command(client *c) {
    if (c->argc == 1) pubsub_punsubscribe_all(c);
    for (int i = 1; i < c->argc; i++) pubsub_punsubscribe(c, c->argv[i].ptr, c->argv[i].len);
    return 0;
}

/* PUBLISH channel message: the number of clients that received it. */
static int publish_command(client *c) {
    if (channels_allowed(c, 1, 2, 0) < 0) return -1; /* the channel, not the message */
    reply_int(c, pubsub_publish(c->srv, c->argv[1].ptr, c->argv[1].len, c->argv[2].ptr, c->argv[2].len));
    return 0;
}

typedef struct listing {
    client *c;
    int n;
} listing;

static void add_channel(void *arg, const char *ch, size_t n) {
    listing *l = arg;
    reply_bulk(l->c, ch, n);
    l->n++;
}

/* PUBSUB CHANNELS [pattern]: channels with at least one subscriber. */
static int pubsub_channels_command(client *c) {
    if (c->argc > 3) {
        reply_subcommand_syntax_error(c);
        return -1;
    }
    listing l = {.c = c};
    size_t slot = reply_deferred_array(c);
    pubsub_each_channel(c->srv, c->argc == 3 ? c->argv[2].ptr : NULL, c->argc == 3 ? c->argv[2].len : 0,
                        add_channel, &l);
    reply_set_deferred_array(c, slot, l.n);
    return 0;
}

/* PUBSUB NUMSUB [channel ...]: channel, count pairs (a flat array, as Redis). */
static int pubsub_numsub_command(client *c) {
    reply_array(c, (int64_t)(c->argc - 2) * 2);
    for (int i = 2; i < c->argc; i++) {
        reply_bulk(c, c->argv[i].ptr, c->argv[i].len);
        reply_int(c, pubsub_numsub(c->srv, c->argv[i].ptr, c->argv[i].len));
    }
    return 0;
}

/* PUBSUB NUMPAT: distinct patterns subscribed to. */
static int pubsub_numpat_command(client *c) {
    reply_int(c, pubsub_numpat(c->srv));
    return 0;
}

/* PUBSUB HELP */
static int pubsub_help_command(client *c) {
    static const char *lines[] = {
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "HELP",
        "    Prints this help."};
    reply_array(c, sizeof lines / sizeof lines[0]);
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) reply_status(c, lines[i]);
    return 0;
}

/* MONITOR: every command executed from now on, one status line each. */
static int monitor_command(client *c) {
    if (c->flags & CL_MONITOR) return 0; /* as Redis: a second MONITOR is ignored */
    monitor_add(c);
    reply_ok(c);
    return 0;
}

static const cmd_def rows[] = {
    {.name = "subscribe", .proc = subscribe_command, .arity = -2, .flags = CMD_PUBSUB_OK,
     .group = "pubsub", .args = "channel [channel ...]",
     .summary = "Listens for messages published to the channels."},
    {.name = "unsubscribe", .proc = unsubscribe_command, .arity = -1, .flags = CMD_PUBSUB_OK,
     .group = "pubsub", .args = "[channel ...]",
     .summary = "Stops listening to the channels (all when none is given)."},
    {.name = "psubscribe", .proc = psubscribe_command, .arity = -2, .flags = CMD_PUBSUB_OK,
     .group = "pubsub", .args = "pattern [pattern ...]",
     .summary = "Listens for messages published to channels matching the glob patterns."},
    {.name = "punsubscribe", .proc = punsubscribe_command, .arity = -1, .flags = CMD_PUBSUB_OK,
     .group = "pubsub", .args = "[pattern ...]",
     .summary = "Stops listening to the patterns (all when none is given)."},
    {.name = "publish", .proc = publish_command, .arity = 3, .flags = CMD_FAST,
     .group = "pubsub", .args = "channel message",
     .summary = "Posts a message to a channel; returns the number of clients that received it."},
    {.name = "pubsub", .proc = cmd_subcommand, .arity = -2, .flags = 0,
     .group = "pubsub", .args = "CHANNELS [pattern]|NUMSUB [channel ...]|NUMPAT|HELP",
     .summary = "Inspects the pub/sub state."},
    {.name = "pubsub|channels", .proc = pubsub_channels_command, .arity = -2, .flags = 0,
     .group = "pubsub", .args = "[pattern]",
     .summary = "Lists the channels that have subscribers (matching the pattern)."},
    {.name = "pubsub|numsub", .proc = pubsub_numsub_command, .arity = -2, .flags = 0,
     .group = "pubsub", .args = "[channel ...]",
     .summary = "Returns the subscriber count of each channel (patterns not counted)."},
    {.name = "pubsub|numpat", .proc = pubsub_numpat_command, .arity = 2, .flags = 0,
     .group = "pubsub", .args = "",
     .summary = "Returns the number of distinct patterns subscribed to."},
    {.name = "pubsub|help", .proc = pubsub_help_command, .arity = 2, .flags = 0,
     .group = "pubsub", .args = "",
     .summary = "Shows the PUBSUB subcommands."},
    {.name = "monitor", .proc = monitor_command, .arity = 1, .flags = CMD_ADMIN | CMD_DENY_MULTI,
     .group = "pubsub", .args = "",
     .summary = "Streams every command the server runs (AUTH and HELLO passwords redacted)."},
    CMD_TABLE_END,
};

const cmd_family pubsub_family = {.name = "pubsub", .rows = rows};
