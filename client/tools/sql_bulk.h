/* The bulk path of the load.sql that stagekv-dump --sql writes.
 *
 * load.sql COPYs every table with the row triggers (and the foreign-key
 * triggers) off (SET LOCAL session_replication_role = replica: superuser,
 * or GRANT SET ON PARAMETER), then runs these steps, which write what the
 * row triggers of docs/schema.sql would have written, one statement per
 * derived table (accounts, email_index, coins_balance, payment_dedup,
 * conversations, conversation_participants, user_dashboard_stats, the
 * promotion feeds, tickets.updated_at, the typed fields inside data), and
 * check what they would have refused (the ledger's running sum, a second
 * user with an e-mail, a second payment with a (provider, external_id), a
 * message outside its conversation's two participants, a reply to a closed
 * or missing ticket or past 1000, every foreign key). The result is the
 * one the trigger path gives, row for row (tests/e2e/domain/sql_migration.sh
 * compares them). The last step turns the triggers back on for the rest of
 * the transaction; they stay on for every later write. */
#ifndef STAGEKV_TOOL_SQL_BULK_H
#define STAGEKV_TOOL_SQL_BULK_H

/* The steps, in order, each a piece of SQL text ending in a newline;
 * NULL-terminated. */
extern const char *const SQL_BULK_STEPS[];

#endif
