#!/usr/bin/env python3
"""A synthetic export of the hosted KV table, for measuring stagekv-import.

    python3 bench/hosted_export.py USERS > export.jsonl      (JSON lines)
    python3 bench/hosted_export.py USERS --array > export.json

Per user: base, profile, settings, 10 tracks, 20 ledger rows (the balance
their sum, written before them), 10 notifications with an unread list, an
e-mail subscription list; every 10th user a conversation of 10 messages.
"""
import json
import sys


def records(users):
    for u in range(users):
        uid = f"u{u}"
        yield f"coins:{uid}:balance", sum(100 if i % 2 == 0 else -30 for i in range(20))
        yield f"users:{uid}:profile", {"bio": f"bio of {uid}", "links": ["a", "b"]}
        yield f"users:{uid}:base", {"email": f"{uid}@example.com", "name": f"User {u}", "role": "artist"}
        yield f"settings:{uid}:privacy", {"public": u % 2 == 0}
        yield f"tracks:{uid}:list", [{"id": f"t{u}x{i}", "title": f"Track {i}", "plays": i * 7} for i in range(10)]
        yield f"coins:{uid}:transactions", [
            {"amount": 100, "type": "credit", "reason": "purchase"} if i % 2 == 0 else
            {"amount": 30, "type": "debit", "reason": "boost"} for i in range(20)]
        yield f"notifications:{uid}:unread", [f"n{u}x8", f"n{u}x9"]
        yield f"notifications:{uid}", [{"id": f"n{u}x{i}", "text": f"note {i}", "read": False} for i in range(10)]
        yield f"email:{uid}:subscriptions", ["news", "offers"]
        if u % 10 == 0 and u + 1 < users:
            yield f"messages:c{u}", [{"from": uid if i % 2 == 0 else f"u{u+1}", "to": f"u{u+1}" if i % 2 == 0 else uid,
                                      "text": f"message {i}", "read": i < 8} for i in range(10)]


def main():
    users = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    array = "--array" in sys.argv
    out = sys.stdout
    first = True
    if array:
        out.write("[\n")
    for k, v in records(users):
        line = json.dumps({"key": k, "value": v}, separators=(",", ":"))
        if array:
            out.write(("" if first else ",\n") + line)
            first = False
        else:
            out.write(line + "\n")
    if array:
        out.write("\n]\n")


if __name__ == "__main__":
    main()
