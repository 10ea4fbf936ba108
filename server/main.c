/* stagekv-server: the composition root. The only file that knows every
 * command family: it hands the list to the server, then runs the loop
 * until SIGTERM/SHUTDOWN. */
#include <stdio.h>
#include <string.h>

#include "server.h"
/* redis/ */
#include "cmd_acl.h"
#include "cmd_admin.h"
#include "cmd_bits.h"
#include "cmd_client.h"
#include "cmd_conn.h"
#include "cmd_expire.h"
#include "cmd_hash.h"
#include "cmd_list.h"
#include "cmd_set.h"
#include "cmd_zset.h"
#include "cmd_sort.h"
#include "cmd_keys.h"
#include "cmd_kv.h"
#include "cmd_pubsub.h"
#include "cmd_server.h"
#include "cmd_string.h"
/* domain/ */
#include "cmd_analytics.h"
#include "cmd_coins.h"
#include "cmd_domain.h"
#include "cmd_dump.h"
#include "cmd_email.h"
#include "cmd_entity.h"
#include "cmd_import.h"
#include "cmd_msg.h"
#include "cmd_notify.h"
#include "cmd_payment.h"
#include "cmd_settings.h"
#include "cmd_ticket.h"
#include "cmd_user.h"
#include "cmd_userdel.h"
#include "domain.h"

/* Table order is COMMAND's order; the domain engine comes first so that
 * its init (ids, write guard, IDEMP hooks) runs before any family's. */
static const cmd_family *const families[] = {
    &domain_engine_family,
    &conn_family, &client_family, &server_family, &admin_family, &acl_family, &string_family, &bits_family,
    &keys_family, &expire_family, &multi_family, &kv_family, &pubsub_family,
    &hash_family, &list_family, &set_family, &zset_family, &sort_family,
    &entity_family, &user_family, &coins_family, &payment_family, &msg_family, &notify_family,
    &email_family, &ticket_family, &settings_family, &analytics_family, &userdel_family, &domain_admin_family,
    &import_family, &dump_family,
    NULL,
};

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--commands-md") == 0) {
        const char *err = NULL;
        if (cmd_table_init(families, &err) < 0) {
            fprintf(stderr, "command table: %s\n", err);
            return 1;
        }
        cmd_write_markdown(stdout);
        return 0;
    }
    config cfg;
    config_defaults(&cfg);
    int r = config_from_args(&cfg, argc, argv);
    if (r != 0) {
        config_free(&cfg);
        return r > 0 ? 0 : 1;
    }
    server_log_open(&cfg);
    server_log_crashes();
    /* the data dir (and its parents) is created by store_open */
    static server srv; /* large; lives for the whole process */
    if (server_init(&srv, &cfg, families) < 0) {
        server_free(&srv);
        config_free(&srv.cfg);
        return 1;
    }
    int code = server_run(&srv);
    server_free(&srv);
    server_log(LL_NOTICE, "stagekv stopped, WAL synced");
    config_free(&srv.cfg);
    return code;
}
