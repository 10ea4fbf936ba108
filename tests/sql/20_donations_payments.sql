-- DONATION.SEND (both ledger rows + the donation + a notification + the
-- artist's figures, or nothing), PAYMENT.RECORD (CREDIT, dedup forever),
-- PROMO/PITCH COST.
SELECT add_coins('fan1', 100, 'welcome');
DO $$
DECLARE
    did text;
    n jsonb;
BEGIN
    did := send_donation('fan1', 'artist1', 25, 'great show');
    PERFORM test.ok(did ~ '^[0-9a-f]{16}$', 'a donation id is a stagekv id');
    PERFORM test.eq((SELECT row(user_id::text, from_user_id::text, amount, message)::text FROM donations WHERE id = did),
                    row('artist1', 'fan1', 25::bigint, 'great show')::text, 'the donation row');
    PERFORM test.eq((SELECT amount FROM coins_transactions WHERE user_id = 'fan1' AND reason = 'donation'), -25::bigint,
                    'the donor''s ledger row');
    PERFORM test.eq((SELECT amount FROM coins_transactions WHERE user_id = 'artist1' AND reason = 'donation'), 25::bigint,
                    'the artist''s ledger row');
    SELECT data INTO n FROM notifications WHERE user_id = 'artist1';
    PERFORM test.eq(n ->> 'type', 'donation', 'a notification for the artist');
    PERFORM test.eq(n ->> 'donation_id', did, 'the notification names the donation');
    PERFORM test.eq(n ->> 'from', 'fan1', 'the notification names the donor');
    PERFORM test.eq((n ->> 'amount')::bigint, 25::bigint, 'the notification carries the amount');
    PERFORM test.eq(n -> 'read', 'false'::jsonb, 'the notification is unread');
    PERFORM test.eq(donation_total('artist1'), 25::bigint, 'DONATION.TOTAL');
    PERFORM test.eq(unread_count('artist1'), 1::bigint, 'the artist''s unread notifications');
    PERFORM test.eq(dashboard('artist1') -> 'donations', '{"count": 1, "total": 25}'::jsonb, 'dashboard donations');
    PERFORM test.eq((dashboard('artist1') ->> 'coins')::bigint, 25::bigint, 'dashboard coins');
END $$;
-- a message-less donation stores message null
SELECT send_donation('fan1', 'artist1', 5);
SELECT test.eq((SELECT count(*) FROM donations WHERE message IS NULL), 1::bigint, 'no MESSAGE: null');
SELECT test.eq((SELECT count(*) FROM notifications WHERE user_id = 'artist1' AND data -> 'message' = 'null'::jsonb),
               1::bigint, 'the notification''s message is JSON null');

-- refusals change nothing
SELECT test.raises($$SELECT send_donation('fan1', 'artist1', 71)$$, 'INSUFFICIENT_FUNDS balance 70, need 71', 'donation past the balance');
SELECT test.raises($$SELECT send_donation('fan1', 'fan1', 1)$$, 'INVALID a donation to oneself', 'donation to oneself');
SELECT test.raises($$SELECT send_donation('fan1', 'artist1', 0)$$, 'INVALID amount 0', 'donation of 0');
SELECT test.raises($$SELECT send_donation('fan1', 'artist1', 1, repeat('x', 4097))$$, 'INVALID message', 'message too long');
SELECT test.eq((SELECT count(*) FROM donations), 2::bigint, 'refused donations write no donation');
SELECT test.eq((SELECT count(*) FROM notifications), 2::bigint, 'refused donations write no notification');
SELECT test.eq(get_balance('fan1'), 70::bigint, 'refused donations move nothing');
SELECT test.eq(donation_total('artist1'), 30::bigint, 'the total counts the two donations');
-- IDEMP: the retry returns the same id, one donation
SELECT test.eq(send_donation('fan1', 'artist1', 1, 'again', 'd1'), send_donation('fan1', 'artist1', 1, 'again', 'd1'),
               'a donation retry returns the same id');
SELECT test.eq((SELECT count(*) FROM donations), 3::bigint, 'one donation for two calls');
SELECT test.raises($$DELETE FROM donations$$, 'INVALID donations rows are append-only', 'donations are append-only');
SELECT test.ledger_consistent('after donations');

-- PAYMENT.RECORD with CREDIT; (provider, external_id) unique forever
DO $$
DECLARE
    pid text;
BEGIN
    pid := record_payment('buyer', '{"provider": "stripe", "external_id": "ch_1", "amount_cents": 499}', 50);
    PERFORM test.eq(get_balance('buyer'), 50::bigint, 'CREDIT adds coins');
    PERFORM test.eq((SELECT reason FROM coins_transactions WHERE user_id = 'buyer'), 'payment', 'CREDIT reason');
    PERFORM test.eq((SELECT counterparty::text FROM coins_transactions WHERE user_id = 'buyer'), '_system', 'CREDIT counterparty');
    PERFORM test.eq((SELECT payment_id::text FROM payment_dedup WHERE provider = 'stripe' AND external_id = 'ch_1'), pid,
                    'the dedup record');
    PERFORM test.eq((SELECT data ->> 'amount_cents' FROM payment_transactions WHERE id = pid), '499',
                    'free-form fields kept in data');
    PERFORM test.eq((SELECT provider FROM payment_transactions WHERE id = pid), 'stripe', 'typed provider column');
END $$;
SELECT test.raises($$SELECT record_payment('someone_else', '{"provider": "stripe", "external_id": "ch_1"}', 50)$$,
                   'CONFLICT payment provider ''stripe'' external_id ''ch_1''', 'a resent webhook, any user');
SELECT test.eq((SELECT count(*) FROM payment_transactions), 1::bigint, 'the conflict wrote no payment');
SELECT test.eq(get_balance('someone_else'), 0::bigint, 'the conflict credited nothing');
SELECT test.raises($$INSERT INTO payment_transactions (user_id, data) VALUES ('x', '{"provider": "stripe", "external_id": "ch_1"}')$$,
                   'CONFLICT', 'a direct insert is deduplicated too');
SELECT record_payment('buyer', '{"provider": "paypal", "external_id": "ch_1"}');
SELECT record_payment('buyer', '{"note": "no pair: no dedup"}');
SELECT record_payment('buyer', '{"note": "no pair: no dedup"}');
SELECT test.eq((SELECT count(*) FROM payment_transactions WHERE user_id = 'buyer'), 4::bigint, 'payments without the pair repeat');
SELECT test.raises($$SELECT record_payment('buyer', '{"provider": 5, "external_id": "x"}')$$, 'INVALID "provider"',
                   'a non-string provider');
SELECT test.raises($$SELECT record_payment('buyer', '[1]')$$, 'INVALID document must be a JSON object', 'a non-object payment');

-- PROMO.CREATE / PITCH.CREATE with COST: the spend and the document, or neither
DO $$
DECLARE
    pid text;
BEGIN
    pid := create_promotion('buyer', '{"name": "launch"}', 30);
    PERFORM test.eq(get_balance('buyer'), 20::bigint, 'COST spent');
    PERFORM test.eq((SELECT reason FROM coins_transactions WHERE user_id = 'buyer' ORDER BY id DESC LIMIT 1), 'cost:PROMO',
                    'cost reason');
    PERFORM test.eq((SELECT data ->> 'name' FROM promotion_campaigns WHERE id = pid), 'launch', 'the campaign');
END $$;
SELECT test.raises($$SELECT create_pitch('buyer', '{"to": "label"}', 21)$$, 'INSUFFICIENT_FUNDS balance 20, need 21',
                   'a pitch past the balance');
SELECT test.eq((SELECT count(*) FROM pitching_submissions), 0::bigint, 'no pitch without its coins');
SELECT create_pitch('buyer', '{"to": "label"}', 20);
SELECT test.eq((SELECT reason FROM coins_transactions WHERE user_id = 'buyer' ORDER BY id DESC LIMIT 1), 'cost:PITCH',
               'pitch cost reason');
SELECT test.eq((SELECT promotion_campaigns_count + pitching_submissions_count FROM user_dashboard_stats WHERE user_id = 'buyer'),
               2::bigint, 'entity counters');
SELECT test.ledger_consistent('after payments');
