-- Assertion helpers for tests/sql (loaded into the template database after
-- docs/schema.sql). Every helper raises on failure, so a test file run with
-- psql -v ON_ERROR_STOP=1 exits non-zero at the first failed check.
CREATE SCHEMA test;

-- got = want (IS NOT DISTINCT FROM), else FAIL
CREATE FUNCTION test.eq(got anyelement, want anyelement, what text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF got IS DISTINCT FROM want THEN
        RAISE EXCEPTION 'FAIL %: got %, want %', what, coalesce(got::text, 'NULL'), coalesce(want::text, 'NULL');
    END IF;
END $$;

CREATE FUNCTION test.ok(cond boolean, what text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF cond IS NOT TRUE THEN
        RAISE EXCEPTION 'FAIL %', what;
    END IF;
END $$;

-- sql must raise an error whose message starts with want_prefix (a code
-- word such as 'INSUFFICIENT_FUNDS') or, when want_prefix is a 5-character
-- SQLSTATE preceded by '#', with that SQLSTATE. The failed statement runs
-- in a subtransaction, so whatever it did is rolled back.
CREATE FUNCTION test.raises(sql text, want text, what text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    ran boolean := false;
    msg text;
    state text;
BEGIN
    BEGIN
        EXECUTE sql;
        ran := true;
    EXCEPTION WHEN OTHERS THEN
        msg := SQLERRM;
        state := SQLSTATE;
    END;
    IF ran THEN
        RAISE EXCEPTION 'FAIL %: no error, want %', what, want;
    END IF;
    IF left(want, 1) = '#' THEN
        IF state <> substr(want, 2) THEN
            RAISE EXCEPTION 'FAIL %: error % "%", want SQLSTATE %', what, state, msg, substr(want, 2);
        END IF;
    ELSIF msg NOT LIKE want || '%' THEN
        RAISE EXCEPTION 'FAIL %: error % "%", want "%..."', what, state, msg, want;
    END IF;
END $$;

-- the number of rows sql returns (runs with the caller's rights and RLS)
CREATE FUNCTION test.count(sql text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE 'SELECT count(*) FROM (' || sql || ') q' INTO n;
    RETURN n;
END $$;

-- Σ coins_transactions.amount = coins_balance.balance for every account,
-- and no balance below zero
CREATE FUNCTION test.ledger_consistent(what text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    bad text;
BEGIN
    SELECT string_agg(format('%s: balance %s, sum %s', coalesce(b.user_id, s.user_id), b.balance, s.total), '; ')
      INTO bad
      FROM coins_balance b
      FULL JOIN (SELECT user_id, sum(amount) AS total FROM coins_transactions GROUP BY user_id) s USING (user_id)
     WHERE b.balance IS DISTINCT FROM s.total OR b.balance < 0;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'FAIL %: ledger broken: %', what, bad;
    END IF;
    PERFORM verify_all_coins();
END $$;

GRANT USAGE ON SCHEMA test TO stagekv_app, stagekv_service;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA test TO stagekv_app, stagekv_service;
