#!/usr/bin/python3
"""A generated platform data set, written through the domain commands.

Every namespace: users (base, profile, subscription), settings, coins
(with IDEMP), the eight entity namespaces (some concerts and news promoted,
some banners active), donations, payments (with dedup pairs and CREDIT),
notifications (some read), conversations (some read), e-mail lists and
history, tickets (with replies, some closed), analytics of tracks and
concerts. Deterministic for a given --users/--per/--seed.

usage: gen-platform.py --port P [--host H] [--users N] [--per K] [--seed S]
  --per K: documents per user in each entity namespace (default 2), and
           as many notifications and ledger rows; scales the set (the
           bench uses it for its million documents).
Prints the number of commands run.
"""
import argparse
import random
import sys

import redis


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--per", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=2000)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    r = redis.Redis(host=a.host, port=a.port, decode_responses=True)
    n = a.users
    uids = ["u%05d" % i for i in range(n)]
    total = 0

    def run(cmds):
        """Runs commands in pipelines; returns the replies."""
        nonlocal total
        out = []
        for i in range(0, len(cmds), a.batch):
            p = r.pipeline(transaction=False)
            for c in cmds[i:i + a.batch]:
                p.execute_command(*c)
            out.extend(p.execute(raise_on_error=True))
        total += len(cmds)
        return out

    for start in range(0, n, 500):
        chunk = uids[start:start + 500]
        cmds = []
        for i, u in enumerate(chunk, start):
            role = "artist" if i % 3 else "fan"
            cmds.append(("USER.CREATE", u, '{"email":"User%d@Example.com","name":"User %d","role":"%s"}' % (i, i, role)))
            cmds.append(("USER.UPDATE", u, "profile", '{"bio":"bio of %d","city":"City %d"}' % (i, i % 17)))
            if i % 4 == 0:
                cmds.append(("USER.UPDATE", u, "subscription", '{"plan":"pro","since":"2026-01-0%d"}' % (1 + i % 9)))
            cmds.append(("SETTINGS.SET", u, "privacy", '{"public":%s}' % ("true" if i % 2 else "false")))
            cmds.append(("SETTINGS.SET", u, "notifications", '{"email":true}'))
            cmds.append(("COINS.ADD", u, str(1000 + i), "topup", "IDEMP", "topup-%d" % i))
            for k in range(a.per):
                cmds.append(("COINS.SPEND", u, str(1 + k), "boost"))
            for ns in ("TRACK", "VIDEO", "CONCERT", "NEWS", "BANNER", "PAYMETHOD"):
                for k in range(a.per):
                    doc = '{"title":"%s %d of %s","n":%d}' % (ns.lower(), k, u, k)
                    if ns == "BANNER":
                        doc = '{"title":"b","status":"%s"}' % ("active" if (i + k) % 2 else "paused")
                    if ns == "CONCERT" or ns == "NEWS":
                        doc = '{"title":"%s %d","promoted":%s}' % (ns.lower(), k, "true" if (i + k) % 3 == 0 else "false")
                    cmds.append((ns + ".CREATE", u, doc))
            for ns in ("PROMO", "PITCH"):
                cmds.append((ns + ".CREATE", u, '{"title":"%s of %s"}' % (ns.lower(), u), "COST", "1"))
            other = uids[(i + 1) % n] if n > 1 else u
            if other != u:
                cmds.append(("DONATION.SEND", u, other, str(1 + i % 7), "MESSAGE", "thanks %d" % i))
                cmds.append(("MSG.SEND", "c%05d" % i, u, other, "hello from %s" % u))
                cmds.append(("MSG.SEND", "c%05d" % i, other, u, "hi back"))
            cmds.append(("PAYMENT.RECORD", u, '{"provider":"stripe","external_id":"ch_%d","amount":%d,"currency":"EUR"}'
                         % (i, 500 + i), "CREDIT", "50"))
            for k in range(a.per):
                cmds.append(("NOTIFY.CREATE", u, '{"type":"info","text":"note %d"}' % k))
            cmds.append(("EMAIL.SUBSCRIBE", u, "news"))
            if i % 2:
                cmds.append(("EMAIL.SUBSCRIBE", u, "offers"))
            cmds.append(("EMAIL.LOG", u, '{"subject":"welcome","template":"w1"}'))
            cmds.append(("TICKET.OPEN", u, '{"subject":"help %d","body":"text"}' % i))
        replies = run(cmds)
        # second round: what needs the ids of the first
        ids = {}
        for c, rep in zip(cmds, replies):
            if c[0] in ("TRACK.CREATE", "CONCERT.CREATE", "TICKET.OPEN", "PAYMENT.RECORD", "NOTIFY.CREATE"):
                ids.setdefault((c[0], c[1]), []).append(rep)
        cmds = []
        for i, u in enumerate(chunk, start):
            for tid in ids.get(("TRACK.CREATE", u), [])[:1]:
                cmds.append(("ANALYTICS.INCR", "tracks", tid, "2026-11-%02d" % (1 + i % 28), "plays", str(1 + i % 50)))
            for cid in ids.get(("CONCERT.CREATE", u), [])[:1]:
                cmds.append(("ANALYTICS.INCR", "concerts", cid, "2026-11-%02d" % (1 + i % 28), "views", "3"))
            for t in ids.get(("TICKET.OPEN", u), []):
                cmds.append(("TICKET.REPLY", t, u, "more details"))
                if i % 3 == 0:
                    cmds.append(("TICKET.CLOSE", t))
            for p in ids.get(("PAYMENT.RECORD", u), []):
                cmds.append(("PAYMENT.STATUS", u, p, "succeeded"))
            notes = ids.get(("NOTIFY.CREATE", u), [])
            if notes and i % 2:
                cmds.append(("NOTIFY.READ", u, notes[0]))
            if i % 4 == 0 and n > 1:
                cmds.append(("MSG.READ", "c%05d" % i, uids[(i + 1) % n]))
        run(cmds)
        rnd.random()
    print(total)


if __name__ == "__main__":
    sys.exit(main())
