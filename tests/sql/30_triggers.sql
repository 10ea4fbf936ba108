-- Every maintained figure and trigger: unread notification and message
-- counters, conversations, entity counts, promoted feeds, active banners,
-- updated_at, immutable columns, the e-mail index, tickets, settings,
-- analytics and the delete hook.

-- ---- notifications ---------------------------------------------------------
DO $$
DECLARE
    n1 text := create_notification('u1', '{"type": "hello", "read": true, "user_id": "forged"}');
    n2 text := create_notification('u1', '{"type": "x"}');
    n3 text := create_notification('u1', '{"type": "y"}');
BEGIN
    PERFORM test.eq(unread_count('u1'), 3::bigint, 'three unread');
    PERFORM test.eq((SELECT data ->> 'user_id' FROM notifications WHERE id = n1), 'u1', 'user_id is the server''s');
    PERFORM test.eq((SELECT read FROM notifications WHERE id = n1), false, 'a new notification is unread');
    PERFORM test.eq(mark_notification_read('u1', n1), 1, 'NOTIFY.READ changes');
    PERFORM test.eq(mark_notification_read('u1', n1), 0, 'NOTIFY.READ again: 0');
    PERFORM test.eq(mark_notification_read('u2', n2), 0, 'another user''s notification: 0');
    PERFORM test.eq(mark_notification_read('u1', '00000000000000ff'), 0, 'a missing notification: 0');
    PERFORM test.eq((SELECT data -> 'read' FROM notifications WHERE id = n1), 'true'::jsonb, 'data.read follows read');
    PERFORM test.eq(unread_count('u1'), 2::bigint, 'two unread');
    DELETE FROM notifications WHERE id = n2;
    PERFORM test.eq(unread_count('u1'), 1::bigint, 'deleting an unread one counts');
    PERFORM test.eq(mark_all_notifications_read('u1'), 1, 'NOTIFY.READALL');
    PERFORM test.eq(unread_count('u1'), 0::bigint, 'none unread');
    UPDATE notifications SET read = false WHERE id = n3;
    PERFORM test.eq(unread_count('u1'), 1::bigint, 'un-reading counts too');
    PERFORM test.eq(unread_count('u1'), (SELECT count(*) FROM notifications WHERE user_id = 'u1' AND NOT read),
                    'the counter equals the unread rows');
END $$;

-- ---- conversations and messages -------------------------------------------
DO $$
DECLARE
    m1 text;
    m2 text;
    m3 text;
BEGIN
    m1 := send_message('c1', 'u1', 'u2', 'hi');
    m2 := send_message('c1', 'u1', 'u2', 'there');
    m3 := send_message('c1', 'u2', 'u1', 'hello');
    PERFORM test.eq((SELECT row(participant_a, participant_b, last_message_id)::text FROM conversations WHERE id = 'c1'),
                    row('u1', 'u2', m3)::text, 'the first message fixed the participants; the last message');
    PERFORM test.eq(unread_messages('u2'), 2::bigint, 'u2 has two unread');
    PERFORM test.eq(unread_messages('u1'), 1::bigint, 'u1 has one unread');
    PERFORM test.eq((SELECT unread_count FROM conversation_participants WHERE conversation_id = 'c1' AND user_id = 'u2'),
                    2::bigint, 'per-conversation unread');
    PERFORM test.eq(mark_conversation_read('c1', 'u2'), 2, 'MSG.READ marks two');
    PERFORM test.eq(mark_conversation_read('c1', 'u2'), 0, 'MSG.READ again: 0');
    PERFORM test.eq(unread_messages('u2'), 0::bigint, 'u2 has none unread');
    PERFORM test.eq(unread_messages('u1'), 1::bigint, 'u1 still has one');
    PERFORM test.eq((dashboard('u1') ->> 'unread_messages')::bigint, 1::bigint, 'dashboard unread messages');
END $$;
SELECT test.raises($$SELECT send_message('c1', 'u1', 'u3', 'x')$$, 'INVALID conversation ''c1'' is between ''u1'' and ''u2''',
                   'a third person');
SELECT test.raises($$SELECT send_message('c9', 'u1', 'u1', 'x')$$, 'INVALID a message to oneself', 'to oneself');
SELECT test.raises($$SELECT send_message('c9', 'u1', 'u2', '')$$, 'INVALID text', 'empty text');
SELECT test.eq((SELECT count(*) FROM conversations WHERE id = 'c9'), 0::bigint, 'refused messages create no conversation');
SELECT test.raises($$UPDATE messages SET text = 'edited'$$, 'INVALID messages.text cannot change', 'message text is immutable');
-- latest activity first
SELECT send_message('c2', 'u3', 'u1', 'newer');
SELECT test.eq((SELECT array_agg(c ->> 'conv') FROM list_conversations('u1') c), ARRAY['c2', 'c1'], 'latest activity first');
SELECT send_message('c1', 'u2', 'u1', 'newest');
SELECT test.eq((SELECT array_agg(c ->> 'conv') FROM list_conversations('u1') c), ARRAY['c1', 'c2'], 'activity reorders');
SELECT test.eq((SELECT array_agg(c ->> 'conv') FROM list_conversations('u1', 'c1', 50) c), ARRAY['c2'], 'AFTER conv');
SELECT test.eq((SELECT (c ->> 'unread')::int FROM list_conversations('u1') c WHERE c ->> 'conv' = 'c1'), 2,
               'each with the user''s unread count');
SELECT test.eq(unread_messages('u1'), (SELECT count(*) FROM messages WHERE recipient_id = 'u1' AND NOT read),
               'the counter equals the unread rows');

-- ---- entities: counts, feeds, updated_at, immutables ------------------------
DO $$
DECLARE
    t1 text;
    t2 text;
    c1 text;
    b1 text;
    d1 jsonb;
    u0 timestamptz;
BEGIN
    INSERT INTO tracks (user_id, data) VALUES ('art', '{"title": "a", "id": "forged", "created_at": "1999"}') RETURNING id INTO t1;
    INSERT INTO tracks (user_id, data) VALUES ('art', '{"title": "b"}') RETURNING id INTO t2;
    PERFORM test.ok(t2 > t1, 'ids increase');
    PERFORM test.eq((SELECT data ->> 'id' FROM tracks WHERE id = t1), t1, 'data.id is the server''s');
    PERFORM test.eq((SELECT data ->> 'created_at' FROM tracks WHERE id = t1), (SELECT sk_ts(created_at) FROM tracks WHERE id = t1),
                    'data.created_at is the server''s, in stagekv''s format');
    PERFORM test.ok((SELECT data ->> 'created_at' FROM tracks WHERE id = t1) ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$',
                    'ISO-8601 UTC with milliseconds');
    PERFORM test.eq((dashboard('art') ->> 'tracks')::int, 2, 'TRACK.COUNT');
    DELETE FROM tracks WHERE id = t2;
    PERFORM test.eq((dashboard('art') ->> 'tracks')::int, 1, 'delete counts');
    INSERT INTO concerts (user_id, data) VALUES ('art', '{"title": "gig"}') RETURNING id INTO c1;
    PERFORM test.eq((SELECT count(*) FROM concert_promotions), 0::bigint, 'not promoted');
    UPDATE concerts SET data = jsonb_merge_patch(data, '{"promoted": true}') WHERE id = c1;
    PERFORM test.eq((SELECT count(*) FROM promoted_concerts()), 1::bigint, 'PROMOTE puts it in the feed');
    UPDATE concerts SET data = jsonb_merge_patch(data, '{"promoted": null}') WHERE id = c1;
    PERFORM test.eq((SELECT count(*) FROM promoted_concerts()), 0::bigint, 'UNPROMOTE takes it out');
    UPDATE concerts SET data = jsonb_merge_patch(data, '{"promoted": true}') WHERE id = c1;
    DELETE FROM concerts WHERE id = c1;
    PERFORM test.eq((SELECT count(*) FROM concert_promotions), 0::bigint, 'a deleted concert leaves the feed');
    INSERT INTO news (user_id, data) VALUES ('art', '{"promoted": true}');
    PERFORM test.eq((SELECT count(*) FROM promoted_news()), 1::bigint, 'promoted news');
    INSERT INTO banner_ads (user_id, data) VALUES ('art', '{"status": "active"}') RETURNING id INTO b1;
    INSERT INTO banner_ads (user_id, data) VALUES ('art', '{"status": "draft"}');
    PERFORM test.eq((SELECT array_agg(b ->> 'id') FROM active_banners() b), ARRAY[b1], 'BANNER.ACTIVE');
    UPDATE banner_ads SET data = jsonb_merge_patch(data, '{"status": "paused"}') WHERE id = b1;
    PERFORM test.eq((SELECT count(*) FROM active_banners()), 0::bigint, 'the index follows updates');
    PERFORM test.raises(format($q$UPDATE tracks SET user_id = 'thief' WHERE id = %L$q$, t1), 'INVALID tracks.user_id cannot change',
                        'owner is immutable');
    PERFORM test.raises(format($q$UPDATE tracks SET id = '0000000000000001' WHERE id = %L$q$, t1), 'INVALID tracks.id cannot change',
                        'id is immutable');
    SELECT updated_at INTO u0 FROM tracks WHERE id = t1;
    PERFORM pg_sleep(0.002);
END $$;
-- updated_at: stamped by the trigger in a later transaction, kept in data
SELECT updated_at AS before_update FROM tracks WHERE data ->> 'title' = 'a' \gset
SELECT pg_sleep(0.01);
UPDATE tracks SET data = jsonb_merge_patch(data, '{"title": "a2", "updated_at": "forged"}') WHERE data ->> 'title' = 'a';
SELECT test.ok(updated_at > :'before_update'::timestamptz, 'updated_at moves on UPDATE') FROM tracks WHERE title = 'a2';
SELECT test.eq(data ->> 'updated_at', sk_ts(updated_at), 'data.updated_at follows') FROM tracks WHERE title = 'a2';
SELECT test.ok(created_at < updated_at, 'created_at stays') FROM tracks WHERE title = 'a2';
SELECT test.eq(user_id::text, 'art', 'a patch cannot move the owner') FROM tracks WHERE title = 'a2';
SELECT settings_set('u1', 'Privacy', '{"public": true, "theme": "dark"}');
SELECT pg_sleep(0.01);
SELECT test.eq(settings_set('u1', 'privacy', '{"theme": null, "lang": "en"}') - 'updated_at', '{"public": true, "lang": "en"}'::jsonb,
               'SETTINGS.SET merge-patches');
SELECT test.ok(updated_at > created_at, 'settings updated_at moves') FROM user_settings WHERE user_id = 'u1';
SELECT test.eq(settings_get('u1', 'security'), '{}'::jsonb, 'a section never set is {}');
SELECT test.raises($$SELECT settings_set('u1', 'billing', '{}')$$, 'INVALID section ''billing''', 'unknown section');

-- ---- users and the e-mail index --------------------------------------------
SELECT create_user('ann', '{"email": "Ann@Example.COM", "role": "fan", "name": "Ann"}');
SELECT test.eq(user_by_email('ann@example.com'), 'ann', 'USER.BYEMAIL, ASCII case-insensitive');
SELECT test.raises($$SELECT create_user('ann2', '{"email": "ANN@example.com", "role": "fan"}')$$,
                   'CONFLICT email ''ANN@example.com'' belongs to another user', 'the address is taken');
SELECT test.raises($$SELECT create_user('ann', '{"email": "other@example.com", "role": "fan"}')$$, 'CONFLICT user ''ann''',
                   'the uid is taken');
SELECT create_user('eve', '{"email": "Éve@example.com", "role": "fan"}');
SELECT create_user('eve2', '{"email": "éve@example.com", "role": "fan"}');
SELECT test.eq(user_by_email('Éve@example.com'), 'eve', 'non-ASCII letters are not folded (as stagekv)');
UPDATE users SET email = 'ann@new.example' WHERE id = 'ann';
SELECT test.eq(user_by_email('ANN@NEW.example'), 'ann', 'an e-mail change moves the index');
SELECT test.eq(user_by_email('ann@example.com'), NULL::text, 'the old address is free');
SELECT test.eq((SELECT data ->> 'email' FROM users WHERE id = 'ann'), 'ann@new.example', 'data.email follows');
SELECT test.raises($$SELECT create_user('bad', '{"email": "x", "role": "fan"}')$$, 'INVALID', 'an address without @');
SELECT test.raises($$SELECT create_user('bad', '{"email": "a@b", "role": "god"}')$$, 'INVALID base needs "role"', 'a bad role');

-- ---- tickets ---------------------------------------------------------------
DO $$
DECLARE
    t text := open_ticket('u1', '{"subject": "help", "body": "it broke", "status": "closed"}');
    r text;
BEGIN
    PERFORM test.eq((SELECT status FROM tickets WHERE id = t), 'open', 'a new ticket is open whatever the client says');
    r := reply_ticket(t, 'u1', 'more details');
    PERFORM test.eq(jsonb_array_length(get_ticket(t) -> 'messages'), 1, 'TICKET.GET has the reply');
    PERFORM test.eq(get_ticket(t) ->> 'body', 'it broke', 'free-form fields kept');
    PERFORM test.eq(close_ticket(t), 1, 'TICKET.CLOSE');
    PERFORM test.eq(close_ticket(t), 0, 'TICKET.CLOSE again: 0');
    PERFORM test.ok((SELECT data ? 'closed_at' FROM tickets WHERE id = t), 'data.closed_at set');
    PERFORM test.raises(format($q$SELECT reply_ticket(%L, 'u1', 'late')$q$, t), 'INVALID ticket ''' || t || ''' is closed',
                        'a closed ticket takes no reply');
    PERFORM test.raises(format($q$UPDATE tickets SET status = 'open', closed_at = NULL WHERE id = %L$q$, t), 'INVALID ticket',
                        'a closed ticket is not reopened');
    PERFORM test.raises($q$SELECT close_ticket('00000000000000aa')$q$, 'NOTFOUND ticket', 'closing a missing ticket');
    PERFORM test.raises($q$SELECT open_ticket('u1', '{"body": "no subject"}')$q$, 'INVALID "subject"', 'a subject is required');
END $$;

-- ---- e-mail ------------------------------------------------------------------
SELECT test.eq(email_subscribe('u1', 'weekly'), 1, 'EMAIL.SUBSCRIBE');
SELECT test.eq(email_subscribe('u1', 'weekly'), 0, 'EMAIL.SUBSCRIBE again: 0');
SELECT email_subscribe('u1', 'News');
SELECT test.eq((SELECT array_agg(list_name::text ORDER BY list_name) FROM email_subscriptions WHERE user_id = 'u1'),
               ARRAY['News', 'weekly'], 'byte order');
SELECT test.eq(email_unsubscribe('u1', 'weekly'), 1, 'EMAIL.UNSUBSCRIBE');
SELECT test.eq(email_unsubscribe('u1', 'weekly'), 0, 'EMAIL.UNSUBSCRIBE again: 0');

-- ---- analytics and the delete hook --------------------------------------------
DO $$
DECLARE
    t text;
BEGIN
    INSERT INTO tracks (user_id, data) VALUES ('art', '{"title": "hit"}') RETURNING id INTO t;
    PERFORM test.eq(analytics_incr('tracks', t, '2026-12-01', 'plays'), 1::bigint, 'first increment');
    PERFORM test.eq(analytics_incr('tracks', t, '2026-12-01', 'plays', 4), 5::bigint, 'increment by n');
    PERFORM analytics_incr('tracks', t, '2026-12-03', 'likes');
    PERFORM test.eq((SELECT array_agg(d ->> 'date') FROM analytics_range('tracks', t, '2026-12-01', '2026-12-31') d),
                    ARRAY['2026-12-01', '2026-12-03'], 'ANALYTICS.RANGE: days with data, ascending');
    PERFORM test.eq((SELECT d FROM analytics_range('tracks', t, '2026-12-01', '2026-12-01') d),
                    '{"date": "2026-12-01", "plays": 5}'::jsonb, 'a day document');
    PERFORM test.raises(format($q$SELECT analytics_incr('tracks', %L, '2026-12-01', 'date')$q$, t), 'INVALID field', 'field "date"');
    PERFORM test.raises(format($q$SELECT analytics_incr('tracks', %L, '2026-12-01', 'Plays')$q$, t), 'INVALID field', 'field case');
    PERFORM test.raises(format($q$SELECT analytics_incr('videos', %L, '2026-12-01', 'plays')$q$, t), 'INVALID kind', 'kind');
    PERFORM test.raises(format($q$SELECT * FROM analytics_range('tracks', %L, '2026-01-01', '2027-01-02')$q$, t),
                        'INVALID range of 367 days', 'at most 366 days');
    DELETE FROM tracks WHERE id = t;
    PERFORM test.eq((SELECT count(*) FROM track_analytics WHERE track_id = t), 0::bigint, 'a track''s analytics go with it');
END $$;
