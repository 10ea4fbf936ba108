-- USER.DELETE (deleting the users row, or delete_user): the balance moves
-- to _system through ledger rows, every row of the user goes, the other
-- side's records stay, payment dedup records survive, no coin disappears.
SELECT create_user('del', '{"email": "Del@x.io", "role": "artist"}');
SELECT create_user('keep', '{"email": "keep@x.io", "role": "fan"}');
SELECT add_coins('keep', 100, 'welcome');
SELECT add_coins('del', 60, 'welcome');
SELECT send_donation('keep', 'del', 15, 'for you');      -- received by del: goes
SELECT send_donation('del', 'keep', 5, 'back');           -- given by del: stays with keep
INSERT INTO profiles (user_id, data) VALUES ('del', '{"bio": "x"}');
INSERT INTO subscriptions (user_id, data) VALUES ('del', '{"plan": "pro"}');
SELECT settings_set('del', 'privacy', '{"x": 1}');
INSERT INTO tracks (user_id, data) VALUES ('del', '{"title": "t"}');
INSERT INTO concerts (user_id, data) VALUES ('del', '{"title": "c", "promoted": true}');
SELECT analytics_incr('tracks', (SELECT id FROM tracks WHERE user_id = 'del'), '2026-12-01', 'plays');
SELECT record_payment('del', '{"provider": "stripe", "external_id": "ch_del"}', 10);
SELECT email_subscribe('del', 'weekly');
SELECT open_ticket('del', '{"subject": "s"}');
SELECT add_coins('del', 1, 'k', 'idem-del');
SELECT send_message('dk', 'del', 'keep', 'from del');
SELECT send_message('dk', 'keep', 'del', 'from keep');
SELECT send_message('dk2', 'del', 'keep', 'only del wrote here');
SELECT count(*) AS coins_before FROM coins_balance \gset
SELECT sum(balance) AS total_before FROM coins_balance \gset
SELECT test.eq(get_balance('del'), 81::bigint, 'del''s balance before');   -- 60 + 15 - 5 + 10 + 1

SELECT test.eq(delete_user('del'), 1, 'USER.DELETE');
SELECT test.eq(delete_user('del'), 0, 'USER.DELETE again: 0 (no NOTFOUND)');

-- no coin disappears
SELECT test.eq((SELECT sum(balance) FROM coins_balance), :'total_before'::numeric, 'the total of all balances is unchanged');
SELECT test.eq(get_balance('_system'), 81::bigint, '_system received the balance');
SELECT test.eq((SELECT row(amount, reason, counterparty::text)::text FROM coins_transactions WHERE user_id = '_system'),
               row(81::bigint, 'user.delete', 'del')::text, 'the _system row names the user');
SELECT test.ledger_consistent('after USER.DELETE');

-- every row of the user is gone
DO $$
DECLARE
    t text;
    n bigint;
BEGIN
    FOREACH t IN ARRAY ARRAY['users', 'profiles', 'subscriptions', 'user_settings', 'coins_balance', 'coins_transactions',
                             'tracks', 'concerts', 'payment_transactions', 'notifications', 'email_subscriptions',
                             'tickets', 'user_dashboard_stats', 'conversation_participants', 'accounts'] LOOP
        EXECUTE format('SELECT count(*) FROM %I WHERE %I = %L', t, CASE WHEN t IN ('users', 'accounts') THEN 'id' ELSE 'user_id' END,
                       'del') INTO n;
        PERFORM test.eq(n, 0::bigint, 'no ' || t || ' row of del');
    END LOOP;
    PERFORM test.eq((SELECT count(*) FROM donations WHERE user_id = 'del'), 0::bigint, 'donations received by del');
    PERFORM test.eq((SELECT count(*) FROM messages WHERE sender_id = 'del'), 0::bigint, 'del''s own messages');
    PERFORM test.eq((SELECT count(*) FROM track_analytics), 0::bigint, 'analytics of del''s tracks');
    PERFORM test.eq((SELECT count(*) FROM concert_promotions), 0::bigint, 'del''s concerts left the feed');
    PERFORM test.eq((SELECT count(*) FROM idempotency_keys WHERE owner = 'del'), 0::bigint, 'del''s IDEMP records');
    PERFORM test.eq(user_by_email('del@x.io'), NULL::text, 'the e-mail index entry');
    PERFORM test.eq((SELECT count(*) FROM ticket_messages), 0::bigint, 'ticket replies');
END $$;

-- what stays
SELECT test.eq((SELECT count(*) FROM donations WHERE from_user_id = 'del' AND user_id = 'keep'), 1::bigint,
               'a donation del gave stays with its artist');
SELECT test.eq((SELECT count(*) FROM coins_transactions WHERE user_id = 'keep' AND counterparty = 'del'), 2::bigint,
               'keep''s ledger rows still name del');
SELECT test.eq((SELECT count(*) FROM payment_dedup WHERE external_id = 'ch_del'), 1::bigint, 'the dedup record survives');
SELECT test.raises($$SELECT record_payment('keep', '{"provider": "stripe", "external_id": "ch_del"}')$$, 'CONFLICT',
                   'and keeps refusing the resent webhook');
SELECT test.eq((SELECT array_agg(text) FROM messages WHERE conversation_id = 'dk'), ARRAY['from keep'],
               'the other side''s messages stay');
SELECT test.eq((SELECT row(participant_a, participant_b)::text FROM conversations WHERE id = 'dk'), row('del', 'keep')::text,
               'the conversation keeps its participants');
SELECT test.eq((SELECT last_message_id FROM conversations WHERE id = 'dk'), (SELECT id FROM messages WHERE conversation_id = 'dk'),
               'its last message is repaired');
SELECT test.eq((SELECT last_message_id FROM conversations WHERE id = 'dk2'), NULL::sk_docid,
               'a conversation with only del''s messages stays, without a last message');
SELECT test.eq(test.count($$SELECT 1 FROM list_conversations('keep')$$), 2::bigint, 'keep still lists both');
SELECT test.eq(unread_messages('keep'), 0::bigint, 'del''s unread messages to keep are gone from keep''s count');

-- when the other side goes too, the conversations go
SELECT delete_user('keep');
SELECT test.eq((SELECT count(*) FROM conversations), 0::bigint, 'no participant left: the conversations go');
SELECT test.eq((SELECT count(*) FROM messages), 0::bigint, 'and their messages');
SELECT test.raises($$DELETE FROM accounts WHERE id = '_system'$$, 'INVALID the _system account', '_system stays');
SELECT test.ledger_consistent('after both deletions');

-- deleting the users row is the same operation
SELECT create_user('x1', '{"email": "x1@x.io", "role": "fan"}');
SELECT add_coins('x1', 3, 'w');
INSERT INTO tracks (user_id) VALUES ('x1');
DELETE FROM users WHERE id = 'x1';
SELECT test.eq((SELECT count(*) FROM accounts WHERE id = 'x1'), 0::bigint, 'DELETE FROM users removes the account');
SELECT test.eq((SELECT count(*) FROM tracks WHERE user_id = 'x1'), 0::bigint, 'and its documents');
SELECT test.eq(get_balance('_system'), 174::bigint, 'and moves its coins (81 + keep''s 90 + 3)');
SELECT test.ledger_consistent('after DELETE FROM users');
