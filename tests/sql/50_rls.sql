-- Row-level security: as the application role with app.current_user_id
-- = 'A', user B's messages, notifications, balance and ledger are
-- invisible and not writable; A's own rows are; the service role sees all.

-- data of A, B and C, written by the owner (superuser)
SELECT create_user('A', '{"email": "a@x.io", "role": "fan"}');
SELECT create_user('B', '{"email": "b@x.io", "role": "artist"}');
SELECT add_coins('A', 100, 'welcome');
SELECT add_coins('B', 500, 'welcome');
SELECT create_notification('A', '{"type": "a"}');
SELECT create_notification('B', '{"type": "b"}');
SELECT send_message('ab', 'A', 'B', 'hi B');
SELECT send_message('ab', 'B', 'A', 'hi A');
SELECT send_message('bc', 'B', 'C', 'secret');
INSERT INTO tracks (user_id, data) VALUES ('B', '{"title": "private"}');
INSERT INTO concerts (user_id, data) VALUES ('B', '{"title": "public", "promoted": true}');
SELECT settings_set('B', 'privacy', '{"x": 1}');
SELECT send_donation('B', 'C', 7);

SET ROLE stagekv_app;
SET app.current_user_id = 'A';

-- invisible
SELECT test.eq(test.count($$SELECT 1 FROM notifications WHERE user_id = 'B'$$), 0::bigint, 'B''s notifications invisible');
SELECT test.eq(test.count($$SELECT 1 FROM notifications$$), 1::bigint, 'A sees exactly their own notification');
SELECT test.eq(test.count($$SELECT 1 FROM coins_balance WHERE user_id = 'B'$$), 0::bigint, 'B''s balance invisible');
SELECT test.eq(test.count($$SELECT 1 FROM coins_transactions WHERE user_id = 'B'$$), 0::bigint, 'B''s ledger invisible');
SELECT test.eq((SELECT balance FROM coins_balance), 100::bigint, 'A sees their balance');
SELECT test.eq(test.count($$SELECT 1 FROM messages WHERE conversation_id = 'bc'$$), 0::bigint, 'B-C messages invisible');
SELECT test.eq(test.count($$SELECT 1 FROM conversations WHERE id = 'bc'$$), 0::bigint, 'B-C conversation invisible');
SELECT test.eq(test.count($$SELECT 1 FROM messages$$), 2::bigint, 'A sees both sides of A-B');
SELECT test.eq(test.count($$SELECT 1 FROM tracks$$), 0::bigint, 'B''s tracks invisible');
SELECT test.eq(test.count($$SELECT 1 FROM concerts$$), 1::bigint, 'a promoted concert is public');
SELECT test.eq(test.count($$SELECT 1 FROM user_settings$$), 0::bigint, 'B''s settings invisible');
SELECT test.eq(test.count($$SELECT 1 FROM users$$), 1::bigint, 'A sees only their user row');
SELECT test.eq(test.count($$SELECT 1 FROM donations$$), 0::bigint, 'others'' donations invisible');
SELECT test.eq(test.count($$SELECT 1 FROM user_dashboard_stats WHERE user_id <> 'A'$$), 0::bigint, 'others'' stats invisible');

-- not writable
DO $$
DECLARE
    n int;
BEGIN
    UPDATE notifications SET read = true WHERE user_id = 'B';
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM test.eq(n, 0, 'B''s notifications cannot be updated');
    DELETE FROM notifications WHERE user_id = 'B';
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM test.eq(n, 0, 'B''s notifications cannot be deleted');
    UPDATE messages SET read = true WHERE conversation_id = 'ab' AND recipient_id = 'B';
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM test.eq(n, 0, 'A cannot mark B''s messages read');
    DELETE FROM tracks;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM test.eq(n, 0, 'B''s tracks cannot be deleted');
END $$;
SELECT test.raises($$INSERT INTO notifications (user_id, data) VALUES ('B', '{}')$$, '#42501', 'no notification for B');
SELECT test.raises($$INSERT INTO tracks (user_id, data) VALUES ('B', '{}')$$, '#42501', 'no track for B');
SELECT test.raises($$UPDATE tracks SET data = '{}' WHERE true; INSERT INTO user_settings (user_id, section) VALUES ('B', 'privacy')$$,
                   '#42501', 'no settings for B');
SELECT test.raises($$INSERT INTO messages (conversation_id, sender_id, recipient_id, text) VALUES ('bc', 'B', 'C', 'forged')$$,
                   '#42501', 'no message as B');
SELECT test.raises($$UPDATE coins_balance SET balance = 0 WHERE user_id = 'B'$$, '#42501', 'balances are not writable');
SELECT test.raises($$INSERT INTO coins_transactions (user_id, amount, reason) VALUES ('A', 1000, 'mint')$$, '#42501',
                   'A cannot mint coins by inserting a ledger row');
SELECT test.raises($$SELECT 1 FROM idempotency_keys$$, '#42501', 'IDEMP records are not readable');
SELECT test.raises($$SELECT 1 FROM email_index$$, '#42501', 'the e-mail index is not readable');
-- the helpers act only for the session's user
SELECT test.raises($$SELECT spend_coins('B', 1, 'x')$$, 'NOPERM', 'spend B''s coins');
SELECT test.raises($$SELECT transfer_coins('B', 'A', 1, 'x')$$, 'NOPERM', 'transfer from B');
SELECT test.raises($$SELECT send_donation('B', 'A', 1)$$, 'NOPERM', 'donate B''s coins');
SELECT test.raises($$SELECT get_balance('B')$$, 'NOPERM', 'read B''s balance');
SELECT test.raises($$SELECT mark_notification_read('B', id) FROM notifications$$, 'NOPERM', 'read B''s notification');
SELECT test.raises($$SELECT mark_all_notifications_read('B')$$, 'NOPERM', 'read all of B''s notifications');
SELECT test.raises($$SELECT mark_conversation_read('ab', 'B')$$, 'NOPERM', 'MSG.READ for B');
SELECT test.raises($$SELECT send_message('bc', 'B', 'C', 'forged')$$, 'NOPERM', 'MSG.SEND as B');
SELECT test.raises($$SELECT unread_count('B')$$, 'NOPERM', 'B''s unread count');
SELECT test.raises($$SELECT delete_user('B')$$, 'NOPERM', 'delete B');
SELECT test.raises($$SELECT add_coins('A', 1, 'mint')$$, '#42501', 'COINS.ADD is the service''s');
-- and work for A
SELECT test.eq(spend_coins('A', 10, 'x'), 90::bigint, 'A spends their coins');
SELECT test.eq(transfer_coins('A', 'B', 10, 'x'), ARRAY[80, 503]::bigint[], 'A pays B');
SELECT test.eq(test.count($$SELECT 1 FROM coins_transactions$$), 3::bigint, 'A sees their three ledger rows');
SELECT send_donation('A', 'B', 5, 'thanks');
SELECT test.eq(unread_count('A'), 1::bigint, 'A''s unread count');
SELECT test.eq(mark_conversation_read('ab', 'A'), 1, 'A reads their conversation');
SELECT send_message('ab', 'A', 'B', 'reply');
INSERT INTO tracks (user_id, data) VALUES ('A', '{"title": "mine"}');
SELECT test.eq(test.count($$SELECT 1 FROM tracks$$), 1::bigint, 'A sees their track');
SELECT test.eq((dashboard('A') ->> 'tracks')::int, 1, 'A''s dashboard');

-- no user set: nothing visible
RESET app.current_user_id;
SELECT test.eq(test.count($$SELECT 1 FROM notifications$$), 0::bigint, 'no app.current_user_id: no rows');
SELECT test.eq(test.count($$SELECT 1 FROM coins_balance$$), 0::bigint, 'no app.current_user_id: no balance');
SELECT test.raises($$SELECT spend_coins('A', 1, 'x')$$, 'NOPERM', 'no app.current_user_id: no helper');

-- the service role bypasses
RESET ROLE;
SET ROLE stagekv_service;
SELECT test.eq(test.count($$SELECT 1 FROM notifications$$), 4::bigint, 'the service sees every notification');
SELECT test.eq(test.count($$SELECT 1 FROM messages$$), 4::bigint, 'the service sees every message');
SELECT test.eq(get_balance('B'), 508::bigint, 'the service acts for anyone');
RESET ROLE;
SELECT test.ledger_consistent('after RLS');

-- the command-shaped helpers act for the session's user too
SET ROLE stagekv_app;
SET app.current_user_id = 'A';
SELECT test.raises($$SELECT entity_create('TRACK', 'B', '{}')$$, 'NOPERM', 'NS.CREATE for B');
SELECT test.raises($$SELECT * FROM entity_list('TRACK', 'B')$$, 'NOPERM', 'NS.LIST of B');
SELECT test.raises($$SELECT create_promotion('B', '{}', 1)$$, 'NOPERM', 'PROMO.CREATE COST for B');
SELECT test.raises($$SELECT update_user('B', 'base', '{"role": "admin"}')$$, 'NOPERM', 'USER.UPDATE of B');
SELECT test.raises($$SELECT get_user('B')$$, 'NOPERM', 'USER.GET of B');
SELECT test.eq(test.count($$SELECT 1 FROM message_history('bc')$$), 0::bigint, 'MSG.HISTORY of B-C: nothing');
SELECT test.eq(test.count($$SELECT 1 FROM message_history('ab')$$), 3::bigint, 'MSG.HISTORY of A-B');
SELECT test.ok(entity_create('TRACK', 'A', '{"title": "x"}') IS NOT NULL, 'NS.CREATE for A');
SELECT test.ok(analytics_incr('tracks', (SELECT id FROM concerts LIMIT 1), '2026-12-01', 'plays') = 1,
               'anyone counts a play');
SELECT test.eq(create_promotion('A', '{"x": 1}', 5) IS NOT NULL, true, 'A pays for a promotion');
RESET ROLE;
SELECT test.ledger_consistent('after the helpers');

-- roles: only the service makes an admin or changes a role
SET ROLE stagekv_app;
SET app.current_user_id = 'A';
SELECT test.raises($$UPDATE users SET role = 'admin'$$, 'NOPERM', 'A makes themselves admin');
SELECT test.raises($$SELECT update_user('A', 'base', '{"role": "artist"}')$$, 'NOPERM', 'A changes their role via USER.UPDATE');
SELECT test.eq(update_user('A', 'base', '{"name": "Ay"}') ->> 'name', 'Ay', 'A changes their name');
SET app.current_user_id = 'newbie';
SELECT test.raises($$SELECT create_user('newbie', '{"email": "n@x.io", "role": "admin"}')$$, 'NOPERM', 'sign up as admin');
SELECT create_user('newbie', '{"email": "n@x.io", "role": "fan"}');
RESET ROLE;
SELECT test.eq(update_user('A', 'base', '{"role": "artist"}') ->> 'role', 'artist', 'the owner/service changes a role');
