-- The coin ledger: add / spend / transfer, INSUFFICIENT_FUNDS changing
-- nothing, Σ coins_transactions.amount = coins_balance.balance, exact
-- transfers, the balance guard, append-only rows, IDEMP keys.
SELECT add_coins('alice', 100, 'welcome');
SELECT test.eq(add_coins('alice', 50, 'bonus'), 150::bigint, 'add returns the new balance');
SELECT test.eq(get_balance('alice'), 150::bigint, 'get_balance');
SELECT test.eq(get_balance('nobody'), 0::bigint, 'a user with no coins has 0');
SELECT test.eq(spend_coins('alice', 40, 'shop'), 110::bigint, 'spend returns the new balance');
SELECT test.eq((SELECT amount FROM coins_transactions WHERE user_id = 'alice' ORDER BY id DESC LIMIT 1), -40::bigint,
               'a debit is a negative amount');
SELECT test.eq((SELECT counterparty::text FROM coins_transactions WHERE user_id = 'alice' ORDER BY id LIMIT 1), '_system',
               'ADD rows name _system');
SELECT test.eq((SELECT count(*) FROM coins_transactions WHERE user_id = '_system'), 0::bigint,
               'no row on _system''s side for ADD');
SELECT test.ledger_consistent('after add/spend');

-- spend more than the balance: INSUFFICIENT_FUNDS, nothing changes
SELECT test.raises($$SELECT spend_coins('alice', 111, 'too much')$$, 'INSUFFICIENT_FUNDS balance 110, need 111',
                   'spend past the balance');
SELECT test.raises($$SELECT spend_coins('alice', 111, 'too much')$$, '#SK402', 'INSUFFICIENT_FUNDS SQLSTATE');
SELECT test.eq(get_balance('alice'), 110::bigint, 'refused spend leaves the balance');
SELECT test.eq((SELECT count(*) FROM coins_transactions WHERE user_id = 'alice'), 3::bigint,
               'refused spend writes no row');
SELECT test.eq(spend_coins('alice', 110, 'all of it'), 0::bigint, 'spending everything reaches exactly 0');
SELECT test.raises($$SELECT spend_coins('alice', 1, 'x')$$, 'INSUFFICIENT_FUNDS balance 0, need 1', 'spend at 0');
SELECT test.raises($$SELECT spend_coins('ghost', 1, 'x')$$, 'INSUFFICIENT_FUNDS', 'spend without an account');
SELECT test.eq((SELECT count(*) FROM coins_transactions WHERE user_id = 'ghost'), 0::bigint, 'no row for ghost');
SELECT test.ledger_consistent('after refusals');

-- bad arguments
SELECT test.raises($$SELECT add_coins('alice', 0, 'x')$$, 'INVALID amount 0', 'amount 0');
SELECT test.raises($$SELECT spend_coins('alice', -5, 'x')$$, 'INVALID amount -5', 'negative amount');
SELECT test.raises($$SELECT add_coins('a:b', 1, 'x')$$, 'INVALID id', 'uid with a colon');
SELECT test.raises($$SELECT add_coins('_system', 1, 'x')$$, 'INVALID id', '_system is not a uid argument');
SELECT test.raises($$SELECT add_coins('alice', 1, '')$$, 'INVALID reason', 'empty reason');
SELECT add_coins('rich', 9223372036854775800, 'a lot');
SELECT test.raises($$SELECT add_coins('rich', 1000, 'more')$$, 'INVALID balance of ''rich'' would pass', 'overflow');
SELECT test.eq(get_balance('rich'), 9223372036854775800::bigint, 'overflow changes nothing');

-- transfer: exactly amount moves, a row on each side
SELECT add_coins('bob', 100, 'welcome');
DO $$
DECLARE
    before_total numeric := (SELECT sum(balance) FROM coins_balance);
    r bigint[];
BEGIN
    r := transfer_coins('bob', 'carol', 30, 'gift');
    PERFORM test.eq(r, ARRAY[70, 30]::bigint[], 'transfer returns both balances');
    PERFORM test.eq((SELECT sum(balance) FROM coins_balance), before_total, 'a transfer creates no coin');
    PERFORM test.eq((SELECT amount FROM coins_transactions WHERE user_id = 'bob' ORDER BY id DESC LIMIT 1), -30::bigint,
                    'payer row');
    PERFORM test.eq((SELECT amount FROM coins_transactions WHERE user_id = 'carol' ORDER BY id DESC LIMIT 1), 30::bigint,
                    'payee row');
    PERFORM test.eq((SELECT counterparty::text FROM coins_transactions WHERE user_id = 'carol' ORDER BY id DESC LIMIT 1),
                    'bob', 'payee row names the payer');
END $$;
SELECT test.raises($$SELECT transfer_coins('bob', 'carol', 71, 'x')$$, 'INSUFFICIENT_FUNDS balance 70, need 71',
                   'transfer past the balance');
SELECT test.eq(ARRAY[get_balance('bob'), get_balance('carol')], ARRAY[70, 30]::bigint[], 'refused transfer moves nothing');
SELECT test.raises($$SELECT transfer_coins('bob', 'bob', 1, 'x')$$, 'INVALID a transfer to oneself', 'self transfer');
SELECT test.raises($$SELECT transfer_coins('bob', 'rich', 10, 'x')$$, 'INVALID balance of ''rich''',
                   'transfer that overflows the payee');
SELECT test.eq(get_balance('bob'), 70::bigint, 'payee overflow: the payer''s row is rolled back too');
SELECT test.ledger_consistent('after transfers');

-- the balance is kept by the ledger only; ledger rows are append-only
SELECT test.raises($$UPDATE coins_balance SET balance = 1000 WHERE user_id = 'bob'$$, 'INVALID coins_balance is kept',
                   'direct balance update');
SELECT test.raises($$INSERT INTO coins_balance (user_id, balance) VALUES ('dave', 5)$$, 'INVALID coins_balance is kept',
                   'direct balance insert');
SELECT test.raises($$UPDATE coins_transactions SET amount = 1000 WHERE user_id = 'bob'$$, 'INVALID coins_transactions rows are append-only',
                   'ledger update');
SELECT test.raises($$DELETE FROM coins_transactions WHERE user_id = 'bob'$$, 'INVALID coins_transactions rows are append-only',
                   'ledger delete');
-- a row inserted directly keeps the balance too (the trigger), and is checked
INSERT INTO coins_transactions (user_id, amount, reason) VALUES ('bob', -20, 'direct');
SELECT test.eq(get_balance('bob'), 50::bigint, 'a direct ledger row moves the balance');
SELECT test.raises($$INSERT INTO coins_transactions (user_id, amount, reason) VALUES ('bob', -51, 'direct')$$,
                   'INSUFFICIENT_FUNDS balance 50, need 51', 'a direct debit is checked');
SELECT test.raises($$INSERT INTO coins_transactions (user_id, amount, balance_after, reason) VALUES ('bob', 1, 7, 'x')$$,
                   'INVALID ledger row', 'a wrong balance_after is refused');
SELECT test.ledger_consistent('after direct rows');

-- IDEMP: a retry replays, another request under the key is CONFLICT,
-- a failed call records nothing
SELECT test.eq(add_coins('erin', 10, 'topup', 'k1'), 10::bigint, 'first call with a key');
SELECT test.eq(add_coins('erin', 10, 'topup', 'k1'), 10::bigint, 'replay returns the first result');
SELECT test.eq(get_balance('erin'), 10::bigint, 'replay changes nothing');
SELECT test.raises($$SELECT add_coins('erin', 11, 'topup', 'k1')$$, 'CONFLICT IDEMP key ''k1''', 'same key, other args');
SELECT test.raises($$SELECT spend_coins('erin', 50, 'x', 'k2')$$, 'INSUFFICIENT_FUNDS', 'failing call with a key');
SELECT test.eq((SELECT count(*) FROM idempotency_keys WHERE owner = 'erin' AND idem_key = 'k2'), 0::bigint,
               'a failed call records nothing');
SELECT add_coins('erin', 100, 'more');
SELECT test.eq(spend_coins('erin', 50, 'x', 'k2'), 60::bigint, 'the retry of a failed call runs');
SELECT test.eq(transfer_coins('erin', 'frank', 5, 'x', 't1'), ARRAY[55, 5]::bigint[], 'transfer with a key');
SELECT test.eq(transfer_coins('erin', 'frank', 5, 'x', 't1'), ARRAY[55, 5]::bigint[], 'transfer replay');
SELECT test.eq(get_balance('frank'), 5::bigint, 'transfer replay moves nothing');
SELECT test.raises($$SELECT add_coins('erin', 1, 'x', '')$$, 'INVALID IDEMP key', 'empty IDEMP key');

-- history and verify
SELECT test.eq((SELECT count(*) FROM coins_history('erin')), 4::bigint, 'history lists every row');
SELECT test.eq((SELECT h ->> 'amount' FROM coins_history('erin', NULL, 1) h), '-5', 'history is newest first');
SELECT test.eq((SELECT count(*) FROM coins_history('erin', (SELECT max(id) FROM coins_transactions WHERE user_id = 'erin'), 50)),
               3::bigint, 'AFTER id continues after it');
SELECT test.raises($$SELECT * FROM coins_history('erin', NULL, 0)$$, 'INVALID LIMIT', 'LIMIT 0');
SELECT test.eq(verify_coins('erin'), 'OK', 'verify');
SELECT test.ledger_consistent('at the end');

-- COINS.VERIFY finds a broken ledger (written around the triggers)
DO $$
BEGIN
    PERFORM test.raises($q$SET LOCAL session_replication_role = replica;
                           INSERT INTO coins_transactions (id, user_id, amount, balance_after, reason)
                           VALUES ('00000000000000ff', 'erin', 5, 5, 'forged');
                           SELECT verify_coins('erin')$q$, 'ERR ledger of ''erin''', 'verify finds a forged row');
    PERFORM test.raises($q$SET LOCAL session_replication_role = replica;
                           UPDATE coins_balance SET balance = balance + 1 WHERE user_id = 'erin';
                           SELECT verify_coins('erin')$q$, 'ERR balance', 'verify finds a balance off the sum');
END $$;
SELECT test.eq(verify_coins('erin'), 'OK', 'the forged rows were rolled back');

-- IDEMP records are reclaimed after 24 hours
UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE idem_key = 'k1';
SELECT test.eq(reclaim_idempotency_keys(), 1::bigint, 'one record older than 24 hours');
SELECT test.eq((SELECT count(*) FROM idempotency_keys WHERE idem_key = 'k2'), 1::bigint, 'younger records stay');
