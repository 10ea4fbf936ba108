-- Every access path of a stagekv command is served by an index: with
-- sequential scans and sorts priced out, each query's plan must use an
-- index and need no Sort node (the index gives the order, as stagekv's key
-- order does).
CREATE FUNCTION pg_temp.indexed(q text, what text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    line text;
    plan text := '';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN ' || q LOOP
        plan := plan || line || E'\n';
    END LOOP;
    IF plan ~ 'Seq Scan' OR plan ~ '(^|\s)Sort' OR plan !~ 'Index' THEN
        RAISE EXCEPTION 'FAIL %: not served by an index:%', what, E'\n' || plan;
    END IF;
END $$;
SET enable_seqscan = off;
SET enable_sort = off;
SET enable_bitmapscan = off;

SELECT pg_temp.indexed($$SELECT * FROM tracks WHERE user_id = 'u' AND id < 'ffff000000000000' ORDER BY id DESC LIMIT 50$$, 'TRACK.LIST');
SELECT pg_temp.indexed($$SELECT * FROM videos WHERE user_id = 'u' ORDER BY id DESC LIMIT 50$$, 'VIDEO.LIST');
SELECT pg_temp.indexed($$SELECT * FROM concerts WHERE user_id = 'u' ORDER BY id DESC LIMIT 50$$, 'CONCERT.LIST');
SELECT pg_temp.indexed($$SELECT * FROM news WHERE user_id = 'u' ORDER BY id DESC LIMIT 50$$, 'NEWS.LIST');
SELECT pg_temp.indexed($$SELECT * FROM banner_ads WHERE user_id = 'u' ORDER BY id DESC LIMIT 50$$, 'BANNER.LIST');
SELECT pg_temp.indexed($$SELECT * FROM promotion_campaigns WHERE user_id = 'u' ORDER BY id DESC LIMIT 50$$, 'PROMO.LIST');
SELECT pg_temp.indexed($$SELECT * FROM pitching_submissions WHERE user_id = 'u' ORDER BY id DESC LIMIT 50$$, 'PITCH.LIST');
SELECT pg_temp.indexed($$SELECT * FROM payment_methods WHERE user_id = 'u' ORDER BY id DESC LIMIT 50$$, 'PAYMETHOD.LIST');
SELECT pg_temp.indexed($$SELECT * FROM coins_transactions WHERE user_id = 'u' ORDER BY id DESC LIMIT 50$$, 'COINS.HISTORY');
SELECT pg_temp.indexed($$SELECT * FROM coins_balance WHERE user_id = 'u'$$, 'COINS.BALANCE');
SELECT pg_temp.indexed($$SELECT * FROM donations WHERE user_id = 'u' ORDER BY id DESC LIMIT 50$$, 'DONATION.LIST');
SELECT pg_temp.indexed($$SELECT * FROM payment_transactions WHERE user_id = 'u' ORDER BY id DESC LIMIT 50$$, 'PAYMENT.LIST');
SELECT pg_temp.indexed($$SELECT * FROM payment_dedup WHERE provider = 'p' AND external_id = 'x'$$, 'payment dedup');
SELECT pg_temp.indexed($$SELECT * FROM notifications WHERE user_id = 'u' ORDER BY id DESC LIMIT 50$$, 'NOTIFY.LIST');
SELECT pg_temp.indexed($$SELECT * FROM notifications WHERE user_id = 'u' AND NOT read ORDER BY id DESC LIMIT 50$$, 'NOTIFY.LIST UNREAD');
SELECT pg_temp.indexed($$SELECT * FROM email_history WHERE user_id = 'u' ORDER BY id DESC LIMIT 50$$, 'EMAIL.HISTORY');
SELECT pg_temp.indexed($$SELECT * FROM email_subscriptions WHERE user_id = 'u' ORDER BY list_name$$, 'EMAIL.SUBSCRIPTIONS');
SELECT pg_temp.indexed($$SELECT * FROM tickets WHERE user_id = 'u' ORDER BY id DESC LIMIT 50$$, 'TICKET.LIST');
SELECT pg_temp.indexed($$SELECT * FROM ticket_messages WHERE ticket_id = '0000000000000001' ORDER BY id$$, 'TICKET.GET replies');
SELECT pg_temp.indexed($$SELECT * FROM messages WHERE conversation_id = 'c' ORDER BY id DESC LIMIT 50$$, 'MSG.HISTORY');
SELECT pg_temp.indexed($$SELECT * FROM messages WHERE recipient_id = 'u' AND conversation_id = 'c' AND NOT read$$, 'MSG.READ');
SELECT pg_temp.indexed($$SELECT * FROM messages WHERE sender_id = 'u'$$, 'USER.DELETE of a sender''s messages');
SELECT pg_temp.indexed($$SELECT * FROM conversation_participants WHERE user_id = 'u' ORDER BY last_message_id DESC, conversation_id DESC LIMIT 50$$,
                       'MSG.CONVERSATIONS');
SELECT pg_temp.indexed($$SELECT * FROM users WHERE ascii_lower(email) = 'a@b'$$, 'USER.BYEMAIL (users)');
SELECT pg_temp.indexed($$SELECT * FROM email_index WHERE email_lower = 'a@b'$$, 'USER.BYEMAIL (email_index)');
SELECT pg_temp.indexed($$SELECT * FROM concerts WHERE promoted ORDER BY id DESC LIMIT 50$$, 'CONCERT.PROMOTED');
SELECT pg_temp.indexed($$SELECT * FROM concert_promotions ORDER BY concert_id DESC LIMIT 50$$, 'CONCERT.PROMOTED (feed)');
SELECT pg_temp.indexed($$SELECT * FROM news WHERE promoted ORDER BY id DESC LIMIT 50$$, 'NEWS.PROMOTED');
SELECT pg_temp.indexed($$SELECT * FROM banner_ads WHERE status = 'active' ORDER BY id DESC LIMIT 50$$, 'BANNER.ACTIVE');
SELECT pg_temp.indexed($$SELECT * FROM track_analytics WHERE track_id = '0000000000000001' AND date BETWEEN '2026-01-01' AND '2026-12-31' ORDER BY date$$,
                       'ANALYTICS.RANGE tracks');
SELECT pg_temp.indexed($$SELECT * FROM concert_analytics WHERE concert_id = '0000000000000001' AND date BETWEEN '2026-01-01' AND '2026-12-31' ORDER BY date$$,
                       'ANALYTICS.RANGE concerts');
SELECT pg_temp.indexed($$SELECT * FROM user_settings WHERE user_id = 'u' AND section = 'privacy'$$, 'SETTINGS.GET');
SELECT pg_temp.indexed($$SELECT * FROM user_dashboard_stats WHERE user_id = 'u'$$, 'DASHBOARD.GET');
SELECT pg_temp.indexed($$SELECT * FROM idempotency_keys WHERE owner = 'u' AND idem_key = 'k'$$, 'IDEMP lookup');
SELECT pg_temp.indexed($$SELECT * FROM idempotency_keys WHERE created_at < now() - interval '24 hours'$$, 'IDEMP reclaim');
-- ON DELETE CASCADE from accounts reaches every per-user table by an index
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.conrelid::regclass AS tbl, a.attname AS col
               FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
              WHERE c.contype = 'f' LOOP
        PERFORM pg_temp.indexed(format('SELECT * FROM %s WHERE %I = %L', r.tbl, r.col, 'x'),
                                format('the foreign key %s.%s', r.tbl, r.col));
    END LOOP;
END $$;
