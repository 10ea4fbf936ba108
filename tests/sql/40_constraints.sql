-- CHECK constraints, domains and keys refuse bad rows written directly
-- (the last line of defence behind the helpers). #23514 = check_violation,
-- #23505 = unique_violation, #23502 = not_null_violation.

-- ids: stagekv's rules
SELECT test.raises($$INSERT INTO tracks (user_id) VALUES ('a:b')$$, '#23514', 'a uid with a colon');
SELECT test.raises($$INSERT INTO tracks (user_id) VALUES ('_hidden')$$, '#23514', 'a uid starting with _');
SELECT test.raises($$INSERT INTO tracks (user_id) VALUES ('')$$, '#23514', 'an empty uid');
SELECT test.raises($$INSERT INTO tracks (user_id) VALUES (repeat('a', 65))$$, '#23514', 'a 65-byte uid');
SELECT test.raises($$INSERT INTO tracks (user_id) VALUES ('sp ace')$$, '#23514', 'a uid with a space');
INSERT INTO tracks (user_id) VALUES (repeat('a', 64));
INSERT INTO tracks (user_id) VALUES ('A.b-c_9');
SELECT test.raises($$INSERT INTO tracks (id, user_id) VALUES ('0123', 'u1')$$, '#23514', 'a short document id');
SELECT test.raises($$INSERT INTO tracks (id, user_id) VALUES ('0123456789ABCDEF', 'u1')$$, '#23514', 'upper-case hex id');
SELECT test.raises($$INSERT INTO users (id, email, role) VALUES ('_system', 'a@b', 'fan')$$, '#23514', '_system is no user');
SELECT test.raises($$INSERT INTO tracks (user_id) VALUES ('_system')$$, '#23514', '_system owns no track');

-- documents are objects
SELECT test.raises($$INSERT INTO tracks (user_id, data) VALUES ('u1', '[1, 2]')$$, 'INVALID document must be a JSON object',
                   'an array document');
SELECT test.raises($$INSERT INTO user_settings (user_id, section, data) VALUES ('u1', 'privacy', '"x"')$$, 'INVALID',
                   'a string document');

-- users
SELECT test.raises($$INSERT INTO users (id, email, role) VALUES ('u1', 'no-at-sign', 'fan')$$, '#23514', 'email without @');
SELECT test.raises($$INSERT INTO users (id, email, role) VALUES ('u1', 'a b@c', 'fan')$$, '#23514', 'email with a space');
SELECT test.raises($$INSERT INTO users (id, email, role) VALUES ('u1', 'ab@', 'fan')$$, '#23514', 'nothing after @');
SELECT test.raises($$INSERT INTO users (id, email, role) VALUES ('u1', 'a@' || repeat('b', 253), 'fan')$$, '#23514', '255 bytes');
SELECT test.raises($$INSERT INTO users (id, email, role) VALUES ('u1', 'a@b', 'superuser')$$, '#23514', 'a bad role');
SELECT test.raises($$INSERT INTO users (id, email) VALUES ('u1', 'a@b')$$, '#23502', 'role required');
INSERT INTO users (id, email, role) VALUES ('u1', 'A@b', 'admin');
SELECT test.raises($$INSERT INTO users (id, email, role) VALUES ('u2', 'a@B', 'fan')$$, 'CONFLICT', 'e-mail unique, ASCII case-folded');
SELECT test.raises($$INSERT INTO users (id, email, role) VALUES ('u1', 'z@b', 'fan')$$, '#23505', 'uid unique');

-- settings sections
SELECT test.raises($$INSERT INTO user_settings (user_id, section) VALUES ('u1', 'billing')$$, '#23514', 'a bad section');
SELECT test.raises($$INSERT INTO user_settings (user_id, section) VALUES ('u1', 'Privacy')$$, '#23514', 'sections are lower-case');

-- money: amounts non-zero, balances never below zero
SELECT test.raises($$INSERT INTO coins_transactions (user_id, amount, reason) VALUES ('u1', 0, 'x')$$, '#23514', 'a zero amount');
SELECT test.raises($$INSERT INTO coins_transactions (user_id, amount, reason) VALUES ('u1', 5, '')$$, '#23514', 'an empty reason');
SELECT test.raises($$INSERT INTO coins_transactions (user_id, amount, reason, counterparty) VALUES ('u1', 5, 'x', 'u1')$$,
                   '#23514', 'oneself as counterparty');
SELECT test.raises($$INSERT INTO coins_transactions (user_id, amount, reason) VALUES ('u1', -1, 'x')$$, 'INSUFFICIENT_FUNDS',
                   'a debit from nothing');
DO $$
BEGIN
    -- the CHECK itself, below the trigger: a ledger-depth write of a negative balance
    PERFORM test.raises($q$INSERT INTO coins_transactions (user_id, amount, reason) VALUES ('u1', 5, 'x');
                           SET LOCAL session_replication_role = replica;
                           UPDATE coins_balance SET balance = -1 WHERE user_id = 'u1'$q$, '#23514', 'balance >= 0 (CHECK)');
END $$;
SELECT test.raises($$INSERT INTO donations (user_id, from_user_id, amount) VALUES ('u1', 'u2', 0)$$, '#23514', 'a zero donation');
SELECT test.raises($$INSERT INTO donations (user_id, from_user_id, amount) VALUES ('u1', 'u2', -3)$$, '#23514', 'a negative donation');
SELECT test.raises($$INSERT INTO donations (user_id, from_user_id, amount) VALUES ('u1', 'u1', 3)$$, '#23514', 'a donation to oneself');
SELECT test.raises($$INSERT INTO payment_transactions (user_id, data) VALUES ('u1', '{"provider": "", "external_id": "x"}')$$,
                   '#23514', 'an empty provider');
SELECT test.raises($$INSERT INTO payment_dedup (provider, external_id, payment_id) VALUES ('p', repeat('x', 256), '0000000000000001')$$,
                   '#23514', 'a 256-byte external_id');

-- conversations, messages, tickets
SELECT test.raises($$INSERT INTO conversations (id, participant_a, participant_b) VALUES ('c', 'u1', 'u1')$$, '#23514',
                   'a conversation with oneself');
SELECT test.raises($$INSERT INTO messages (conversation_id, sender_id, recipient_id, text) VALUES ('c', 'u1', 'u2', repeat('x', 65537))$$,
                   '#23514', 'a message over 65536 bytes');
SELECT test.raises($$INSERT INTO tickets (user_id, data) VALUES ('u1', '{"body": "no subject"}')$$, '#23514', 'a ticket without subject');
SELECT test.raises($$INSERT INTO tickets (user_id, data) VALUES ('u1', '{"subject": 5}')$$, '#23514', 'a non-string subject');
SELECT test.raises($$INSERT INTO tickets (user_id, status, data) VALUES ('u1', 'pending', '{"subject": "s"}')$$, '#23514', 'a bad status');
SELECT test.raises($$INSERT INTO tickets (user_id, status, data) VALUES ('u1', 'closed', '{"subject": "s"}')$$, '#23514',
                   'closed needs closed_at');
SELECT test.raises($$INSERT INTO ticket_messages (ticket_id, author, text) VALUES ('00000000000000aa', 'u1', 'x')$$, 'NOTFOUND',
                   'a reply to a missing ticket');

-- analytics counters are non-negative integers; dates are calendar days
SELECT test.raises($$INSERT INTO track_analytics (track_id, date, data) VALUES ('0000000000000001', '2026-01-01', '{"plays": 1.5}')$$,
                   '#23514', 'a fractional counter');
SELECT test.raises($$INSERT INTO track_analytics (track_id, date, data) VALUES ('0000000000000001', '2026-01-01', '{"plays": -1}')$$,
                   '#23514', 'a negative counter');
SELECT test.raises($$INSERT INTO track_analytics (track_id, date, data) VALUES ('0000000000000001', '2026-01-01', '{"Plays": 1}')$$,
                   '#23514', 'a bad field name');
SELECT test.raises($$INSERT INTO track_analytics (track_id, date) VALUES ('0000000000000001', '10000-01-01')$$, '#23514', 'year 10000');
SELECT test.raises($$SELECT analytics_incr('tracks', '0000000000000001', '2026-02-30', 'plays')$$, '#22008', 'February 30th');

-- e-mail list names are ids
SELECT test.raises($$INSERT INTO email_subscriptions (user_id, list_name) VALUES ('u1', 'a:b')$$, '#23514', 'a list name with a colon');

-- counters never below zero
SELECT test.raises($$INSERT INTO accounts (id) VALUES ('z'); SET LOCAL session_replication_role = replica;
                    INSERT INTO user_dashboard_stats (user_id, unread_messages) VALUES ('z', -1)$$, '#23514', 'a negative counter');
