-- A load as stagekv-dump --sql will write it: the COPY column lists and
-- load order of the header of docs/schema.sql, in one transaction, the
-- DERIVED tables left to the triggers. Then the derived tables must equal
-- what stagekv kept, and the ledger must verify.
BEGIN;
UPDATE id_high_water SET last_id = x'01a2400000000000'::bigint;
COPY users (id, email, name, role, data, created_at, updated_at) FROM STDIN;
art	Art@x.io	Art	artist	{"id": "art", "email": "Art@x.io", "name": "Art", "role": "artist", "label": "indie", "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-02T00:00:00.000Z"}	2026-01-01T00:00:00.000Z	2026-01-02T00:00:00.000Z
fan	fan@x.io	\N	fan	{"id": "fan", "email": "fan@x.io", "role": "fan", "created_at": "2026-01-01T00:00:00.001Z", "updated_at": "2026-01-01T00:00:00.001Z"}	2026-01-01T00:00:00.001Z	2026-01-01T00:00:00.001Z
\.
COPY user_settings (user_id, section, data, created_at, updated_at) FROM STDIN;
fan	privacy	{"public": false, "updated_at": "2026-01-03T00:00:00.000Z"}	2026-01-03T00:00:00.000Z	2026-01-03T00:00:00.000Z
\.
COPY payment_dedup (provider, external_id, payment_id, created_at) FROM STDIN;
stripe	ch_9	01a2400000010000	2026-01-04T00:00:00.000Z
\.
COPY coins_transactions (id, user_id, amount, balance_after, reason, counterparty, created_at) FROM STDIN;
01a2400000010001	fan	100	100	payment	_system	2026-01-04T00:00:00.000Z
01a2400000020000	fan	-30	70	donation	art	2026-01-05T00:00:00.000Z
01a2400000020001	art	30	30	donation	fan	2026-01-05T00:00:00.000Z
01a2400000030000	_system	12	12	user.delete	gone	2026-01-06T00:00:00.000Z
\.
COPY tracks (id, user_id, data, created_at, updated_at) FROM STDIN;
01a2400000040000	art	{"id": "01a2400000040000", "user_id": "art", "title": "Intro", "bpm": 120, "created_at": "2026-01-07T00:00:00.000Z", "updated_at": "2026-01-07T00:00:00.000Z"}	2026-01-07T00:00:00.000Z	2026-01-07T00:00:00.000Z
\.
COPY concerts (id, user_id, data, created_at, updated_at) FROM STDIN;
01a2400000050000	art	{"id": "01a2400000050000", "user_id": "art", "title": "Live", "promoted": true, "created_at": "2026-01-08T00:00:00.000Z", "updated_at": "2026-01-08T00:00:00.000Z"}	2026-01-08T00:00:00.000Z	2026-01-08T00:00:00.000Z
\.
COPY track_analytics (track_id, date, data) FROM STDIN;
01a2400000040000	2026-01-09	{"date": "2026-01-09", "plays": 42, "likes": 3}
\.
COPY donations (id, user_id, from_user_id, amount, message, created_at) FROM STDIN;
01a2400000020002	art	fan	30	\N	2026-01-05T00:00:00.000Z
\.
COPY payment_transactions (id, user_id, data, created_at, updated_at) FROM STDIN;
01a2400000010000	fan	{"id": "01a2400000010000", "user_id": "fan", "provider": "stripe", "external_id": "ch_9", "created_at": "2026-01-04T00:00:00.000Z", "updated_at": "2026-01-04T00:00:00.000Z"}	2026-01-04T00:00:00.000Z	2026-01-04T00:00:00.000Z
\.
COPY notifications (id, user_id, read, data, created_at) FROM STDIN;
01a2400000020003	art	f	{"id": "01a2400000020003", "user_id": "art", "read": false, "type": "donation", "from": "fan", "amount": 30, "donation_id": "01a2400000020002", "message": null, "created_at": "2026-01-05T00:00:00.000Z"}	2026-01-05T00:00:00.000Z
01a2400000060000	art	t	{"id": "01a2400000060000", "user_id": "art", "read": true, "type": "hello", "created_at": "2026-01-10T00:00:00.000Z"}	2026-01-10T00:00:00.000Z
\.
COPY conversations (id, participant_a, participant_b, last_message_id, created_at, updated_at) FROM STDIN;
c1	fan	art	01a2400000070001	2026-01-11T00:00:00.000Z	2026-01-11T00:00:01.000Z
\.
COPY messages (id, conversation_id, sender_id, recipient_id, text, read, created_at) FROM STDIN;
01a2400000070000	c1	fan	art	hello	t	2026-01-11T00:00:00.000Z
01a2400000070001	c1	art	fan	hi back	f	2026-01-11T00:00:01.000Z
\.
COPY email_subscriptions (user_id, list_name, created_at) FROM STDIN;
fan	weekly	2026-01-12T00:00:00.000Z
\.
COPY email_history (id, user_id, data, created_at, updated_at) FROM STDIN;
01a2400000080000	fan	{"id": "01a2400000080000", "user_id": "fan", "template": "welcome", "created_at": "2026-01-12T00:00:00.000Z", "updated_at": "2026-01-12T00:00:00.000Z"}	2026-01-12T00:00:00.000Z	2026-01-12T00:00:00.000Z
\.
COPY tickets (id, user_id, status, data, created_at, updated_at, closed_at) FROM STDIN;
01a2400000090000	fan	closed	{"id": "01a2400000090000", "user_id": "fan", "status": "closed", "subject": "help", "created_at": "2026-01-13T00:00:00.000Z", "updated_at": "2026-01-15T00:00:00.000Z", "closed_at": "2026-01-15T00:00:00.000Z"}	2026-01-13T00:00:00.000Z	2026-01-15T00:00:00.000Z	2026-01-15T00:00:00.000Z
\.
COPY ticket_messages (id, ticket_id, author, text, created_at) FROM STDIN;
01a2400000090001	01a2400000090000	fan	details	2026-01-14T00:00:00.000Z
\.
COPY idempotency_keys (owner, idem_key, fingerprint, reply, result, created_at) FROM STDIN;
fan	k1	0123456789abcdef0123456789abcdef	\\x3a3130300d0a	\N	2026-01-04T00:00:00.000Z
\.
SELECT test.eq(verify_all_coins(), 3::bigint, 'every loaded ledger verifies');
COMMIT;

-- the derived tables
SELECT test.eq((SELECT array_agg(row(user_id::text, balance)::text ORDER BY user_id) FROM coins_balance),
               ARRAY[row('_system', 12::bigint)::text, row('art', 30::bigint)::text, row('fan', 70::bigint)::text],
               'coins_balance from the ledger');
SELECT test.eq(dashboard('art'),
               '{"tracks": 1, "videos": 0, "concerts": 1, "news": 0, "coins": 30, "donations": {"count": 1, "total": 30},
                 "unread_notifications": 1, "unread_messages": 0}'::jsonb, 'art''s dashboard');
SELECT test.eq((dashboard('fan') ->> 'unread_messages')::int, 1, 'fan''s unread message');
SELECT test.eq((SELECT array_agg(row(user_id::text, last_message_id::text, unread_count)::text ORDER BY user_id)
                  FROM conversation_participants),
               ARRAY[row('art', '01a2400000070001', 0::bigint)::text, row('fan', '01a2400000070001', 1::bigint)::text],
               'conversation participants from the messages');
SELECT test.eq((SELECT row(last_message_id, updated_at)::text FROM conversations),
               row('01a2400000070001'::sk_docid, '2026-01-11T00:00:01.000Z'::timestamptz)::text, 'details unchanged by the load');
SELECT test.eq(user_by_email('ART@X.IO'), 'art', 'the e-mail index');
SELECT test.eq((SELECT count(*) FROM promoted_concerts()), 1::bigint, 'the promoted feed');
SELECT test.eq((SELECT updated_at FROM tickets), '2026-01-15T00:00:00.000Z'::timestamptz, 'a reply before the close keeps updated_at');
-- documents round-trip: data is the document stagekv stored
SELECT test.eq((SELECT data FROM tracks),
               '{"id": "01a2400000040000", "user_id": "art", "title": "Intro", "bpm": 120, "created_at": "2026-01-07T00:00:00.000Z",
                 "updated_at": "2026-01-07T00:00:00.000Z"}'::jsonb, 'a track document round-trips');
SELECT test.eq((SELECT data ->> 'label' FROM users WHERE id = 'art'), 'indie', 'free-form user fields are kept');
SELECT test.eq((SELECT data - 'updated_at' - 'created_at' FROM users WHERE id = 'fan'),
               '{"id": "fan", "email": "fan@x.io", "role": "fan"}'::jsonb, 'an absent name stays absent');
-- new ids continue after the loaded high-water mark
SELECT test.ok(new_id() > '01a2400000090001', 'new ids after the loaded ones');
-- a row that disagrees with the ledger is refused (COINS.VERIFY at load time)
SELECT test.raises($$INSERT INTO coins_transactions (id, user_id, amount, balance_after, reason) VALUES ('01a2400000100000', 'fan', -5, 60, 'x')$$,
                   'INVALID ledger row 01a2400000100000 of ''fan'': balance_after 60, the running sum is 65', 'a broken ledger');
-- a stagekv IDEMP record under the same key is not a new request for the SQL helpers
SELECT test.raises($$SELECT spend_coins('fan', 1, 'x', 'k1')$$, 'CONFLICT', 'a migrated IDEMP key');
