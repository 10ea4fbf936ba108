-- The command-shaped helpers: NS.* (entity_*), PROMOTE, USER.GET/UPDATE,
-- EMAIL.LOG/SUBSCRIPTIONS, NOTIFY.LIST [UNREAD], MSG.HISTORY, and the
-- RFC 7386 merge patch they use.

-- RFC 7386 (its appendix A examples)
SELECT test.eq(jsonb_merge_patch('{"a": "b"}', '{"a": "c"}'), '{"a": "c"}'::jsonb, 'replace a member');
SELECT test.eq(jsonb_merge_patch('{"a": "b"}', '{"b": "c"}'), '{"a": "b", "b": "c"}'::jsonb, 'add a member');
SELECT test.eq(jsonb_merge_patch('{"a": "b"}', '{"a": null}'), '{}'::jsonb, 'null removes');
SELECT test.eq(jsonb_merge_patch('{"a": "b", "b": "c"}', '{"a": null}'), '{"b": "c"}'::jsonb, 'null removes one');
SELECT test.eq(jsonb_merge_patch('{"a": ["b"]}', '{"a": "c"}'), '{"a": "c"}'::jsonb, 'an array is replaced');
SELECT test.eq(jsonb_merge_patch('{"a": "c"}', '{"a": ["b"]}'), '{"a": ["b"]}'::jsonb, 'by an array');
SELECT test.eq(jsonb_merge_patch('{"a": {"b": "c"}}', '{"a": {"b": "d", "c": null}}'), '{"a": {"b": "d"}}'::jsonb, 'nested');
SELECT test.eq(jsonb_merge_patch('{"a": [{"b": "c"}]}', '{"a": [1]}'), '{"a": [1]}'::jsonb, 'arrays are not merged');
SELECT test.eq(jsonb_merge_patch('["a", "b"]', '["c", "d"]'), '["c", "d"]'::jsonb, 'a non-object patch replaces');
SELECT test.eq(jsonb_merge_patch('{"a": "b"}', '["c"]'), '["c"]'::jsonb, 'an array patch replaces');
SELECT test.eq(jsonb_merge_patch('{"e": null}', '{"a": 1}'), '{"a": 1, "e": null}'::jsonb, 'existing nulls stay');
SELECT test.eq(jsonb_merge_patch('[1, 2]', '{"a": "b", "c": null}'), '{"a": "b"}'::jsonb, 'an object patch on a non-object');
SELECT test.eq(jsonb_merge_patch('{}', '{"a": {"bb": {"ccc": null}}}'), '{"a": {"bb": {}}}'::jsonb, 'deep nulls');
SELECT test.eq(jsonb_merge_patch('{"n": 12345678901234567890}', '{}'), '{"n": 12345678901234567890}'::jsonb,
               'integers keep their exact value');

-- NS.* for every namespace
DO $$
DECLARE
    ns text;
    a text;
    b text;
BEGIN
    FOREACH ns IN ARRAY ARRAY['TRACK', 'VIDEO', 'CONCERT', 'NEWS', 'BANNER', 'PROMO', 'PITCH', 'paymethod'] LOOP
        a := entity_create(ns, 'u1', '{"title": "first"}');
        b := entity_create(ns, 'u1', '{"title": "second"}');
        PERFORM test.eq(entity_get(ns, 'u1', a) ->> 'title', 'first', ns || '.GET');
        PERFORM test.eq(entity_get(ns, 'u2', a), NULL::jsonb, ns || '.GET of another owner: nil');
        PERFORM test.eq((SELECT array_agg(d ->> 'id') FROM entity_list(ns, 'u1') d), ARRAY[b, a], ns || '.LIST newest first');
        PERFORM test.eq((SELECT array_agg(d ->> 'id') FROM entity_list(ns, 'u1', b, 10) d), ARRAY[a], ns || '.LIST AFTER');
        PERFORM test.eq((SELECT count(*) FROM entity_list(ns, 'nobody')), 0::bigint, ns || '.LIST of an absent owner: empty');
        PERFORM test.eq(entity_update(ns, 'u1', a, '{"title": null, "genre": "x"}') - 'updated_at',
                        jsonb_build_object('id', a, 'user_id', 'u1', 'genre', 'x', 'created_at', entity_get(ns, 'u1', a) ->> 'created_at'),
                        ns || '.UPDATE');
        PERFORM test.raises(format($q$SELECT entity_update(%L, 'u2', %L, '{}')$q$, ns, a), 'NOTFOUND', ns || '.UPDATE of another''s');
        PERFORM test.eq(entity_count(ns, 'u1'), 2::bigint, ns || '.COUNT');
        PERFORM test.eq(entity_delete(ns, 'u1', a), 1, ns || '.DELETE');
        PERFORM test.eq(entity_delete(ns, 'u1', a), 0, ns || '.DELETE again: 0');
        PERFORM test.eq(entity_count(ns, 'u1'), 1::bigint, ns || '.COUNT after the delete');
    END LOOP;
END $$;
SELECT test.raises($$SELECT entity_create('SONG', 'u1', '{}')$$, 'INVALID namespace', 'an unknown namespace');
SELECT test.raises($$SELECT entity_get('TRACK', 'u1', 'a:b')$$, 'INVALID id', 'a bad id');
SELECT test.raises($$SELECT * FROM entity_list('TRACK', 'u1', NULL, 1001)$$, 'INVALID LIMIT', 'LIMIT 1001');
SELECT test.eq(entity_create('TRACK', 'u1', '{"t": 1}', 'idem'), entity_create('TRACK', 'u1', '{"t": 1}', 'idem'),
               'NS.CREATE with IDEMP');

-- PROMOTE / UNPROMOTE
DO $$
DECLARE
    c text := entity_create('CONCERT', 'u1', '{"title": "gig"}');
BEGIN
    PERFORM test.eq(set_promoted('CONCERT', 'u1', c, true), 1, 'PROMOTE');
    PERFORM test.eq(set_promoted('CONCERT', 'u1', c, true), 0, 'PROMOTE again: 0');
    PERFORM test.eq(set_promoted('CONCERT', 'u2', c, true), 0, 'PROMOTE of another''s: 0');
    PERFORM test.eq((SELECT count(*) FROM promoted_concerts() p WHERE p ->> 'id' = c), 1::bigint, 'in the feed');
    PERFORM test.eq(set_promoted('CONCERT', 'u1', c, false), 1, 'UNPROMOTE');
    PERFORM test.eq(entity_get('CONCERT', 'u1', c) -> 'promoted', 'false'::jsonb, 'promoted: false, as stagekv');
    PERFORM test.eq((SELECT count(*) FROM promoted_concerts() p WHERE p ->> 'id' = c), 0::bigint, 'out of the feed');
    PERFORM test.raises(format($q$SELECT set_promoted('TRACK', 'u1', %L, true)$q$, c), 'INVALID namespace', 'tracks have no feed');
    -- a concert's analytics go with it
    PERFORM analytics_incr('concerts', c, '2026-12-01', 'tickets_sold', 3);
    PERFORM entity_delete('CONCERT', 'u1', c);
    PERFORM test.eq((SELECT count(*) FROM concert_analytics), 0::bigint, 'a concert''s analytics go with it');
END $$;

-- USER.GET / USER.UPDATE
SELECT create_user('ann', '{"email": "ann@x.io", "role": "fan"}');
SELECT create_user('bea', '{"email": "bea@x.io", "role": "fan"}');
SELECT test.eq(get_user('ann') - 'base', '{"id": "ann", "profile": {}, "subscription": {}}'::jsonb, 'USER.GET, sections {}');
SELECT test.eq(get_user('nobody'), NULL::jsonb, 'USER.GET of nobody: nil');
SELECT test.eq(update_user('ann', 'profile', '{"bio": "hi"}') - 'updated_at', '{"bio": "hi"}'::jsonb, 'USER.UPDATE profile');
SELECT test.eq(update_user('ann', 'Subscription', '{"plan": "pro"}') ->> 'plan', 'pro', 'USER.UPDATE subscription');
SELECT test.eq((SELECT plan FROM subscriptions WHERE user_id = 'ann'), 'pro', 'the typed plan column');
SELECT test.eq(update_user('ann', 'base', '{"email": "Ann@New.io", "name": "Ann"}') ->> 'name', 'Ann', 'USER.UPDATE base');
SELECT test.eq(user_by_email('ann@new.io'), 'ann', 'the e-mail moved');
SELECT test.raises($$SELECT update_user('ann', 'base', '{"email": "BEA@x.io"}')$$, 'CONFLICT', 'another''s address');
SELECT test.raises($$SELECT update_user('ann', 'base', '{"role": null}')$$, 'INVALID base needs "role"', 'the role stays required');
SELECT test.raises($$SELECT update_user('ann', 'base', '{"email": "no-at"}')$$, 'INVALID email', 'a bad address');
SELECT test.raises($$SELECT update_user('nobody', 'profile', '{}')$$, 'NOTFOUND user', 'USER.UPDATE of nobody');
SELECT test.raises($$SELECT update_user('ann', 'avatar', '{}')$$, 'INVALID section', 'an unknown section');
SELECT test.eq((SELECT name FROM users WHERE id = 'ann'), 'Ann', 'typed name follows');

-- EMAIL.LOG / EMAIL.HISTORY / EMAIL.SUBSCRIPTIONS
SELECT log_email('ann', '{"template": "welcome"}');
SELECT test.eq((SELECT data ->> 'template' FROM email_history WHERE user_id = 'ann'), 'welcome', 'EMAIL.LOG');
SELECT email_subscribe('ann', 'b-list');
SELECT email_subscribe('ann', 'A-list');
SELECT test.eq(email_subscriptions_of('ann'), ARRAY['A-list', 'b-list'], 'EMAIL.SUBSCRIPTIONS in byte order');
SELECT test.eq(email_subscriptions_of('nobody'), '{}'::text[], 'no lists');

-- NOTIFY.LIST [UNREAD]
DO $$
DECLARE
    n1 text := create_notification('ann', '{"n": 1}');
    n2 text := create_notification('ann', '{"n": 2}');
    n3 text := create_notification('ann', '{"n": 3}');
BEGIN
    PERFORM mark_notification_read('ann', n2);
    PERFORM test.eq((SELECT array_agg(d ->> 'id') FROM list_notifications('ann') d), ARRAY[n3, n2, n1], 'NOTIFY.LIST');
    PERFORM test.eq((SELECT array_agg(d ->> 'id') FROM list_notifications('ann', NULL, 50, true) d), ARRAY[n3, n1], 'UNREAD');
    PERFORM test.eq((SELECT array_agg(d ->> 'id') FROM list_notifications('ann', n3, 1, true) d), ARRAY[n1], 'UNREAD AFTER LIMIT');
END $$;

-- MSG.HISTORY
DO $$
DECLARE
    m1 text := send_message('cv', 'ann', 'bea', 'one');
    m2 text := send_message('cv', 'bea', 'ann', 'two');
BEGIN
    PERFORM test.eq((SELECT array_agg(d ->> 'text') FROM message_history('cv') d), ARRAY['two', 'one'], 'MSG.HISTORY newest first');
    PERFORM test.eq((SELECT d FROM message_history('cv', m2, 1) d) - 'created_at',
                    jsonb_build_object('id', m1, 'conv', 'cv', 'from', 'ann', 'to', 'bea', 'text', 'one', 'read', false),
                    'a message in stagekv''s shape');
    PERFORM test.eq((SELECT count(*) FROM message_history('none')), 0::bigint, 'an absent conversation: empty');
END $$;
