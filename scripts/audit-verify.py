#!/usr/bin/python3
"""Checks an exported audit trail without latchkey (docs/audit.md, "Checking
an export without latchkey").

    latchkey operator audit export --data-dir DIR > trail.jsonl
    scripts/audit-verify.py trail.jsonl [--anchor SEQ:HASH]

Reads the JSON lines of `operator audit export` or of the --audit-file
sink (rotated files concatenated in order), or `-` for standard input,
recomputes every record's hash from its fields with SHA-256 alone,
and checks that each seq follows the one before and each record links to
the hash of the one before it. An export that starts after seq 1 (made
with --since) is checked from its first record on; that record's link is
taken as given. An --org export holds only some records and fails at its
first gap: the chain runs through every record. With --anchor, the
anchored record must be present with that hash. Standard library only,
so an auditor can read all of it.

Exit status: 0 intact, 1 broken (the first broken record is named), 2 the
input could not be read.
"""
import argparse
import calendar
import hashlib
import heapq
import json
import sys

GENESIS = "0" * 64
# The canonical encoding's string fields, in order, by their column names in
# the store (core/audit.c, audit_canonical), and where the export has them.
# org_id is encoded only when it is set (tag "LKA2"); records without one,
# such as every record from before org ids, keep the first format ("LKA1").
STRINGS = ("request_id", "actor_type", "actor_name", "actor_org", "token_id", "credential_hmac", "org", "org_id",
           "team", "action", "method", "resource", "outcome")
EXPORTED = {"actor_type": "actor.type", "actor_name": "actor.name", "actor_org": "actor.org",
            "token_id": "actor.token_id"}


def record_hash(r, prev_hash):
    """A record's hash from its fields (named as the store's columns: seq,
    time_ms, the STRINGS, status, source_ip, user_agent) and its link:
    SHA-256 over the tag ("LKA2" when org_id is set, else "LKA1" and no
    org_id), seq and time_ms (8 bytes, big-endian), the strings (a 4-byte
    big-endian length and their bytes), status (8 bytes), source_ip,
    user_agent and the link's 64 hex digits."""
    def u64(v):
        return (v & (2 ** 64 - 1)).to_bytes(8, "big")

    def text(v):
        b = v.encode()
        return len(b).to_bytes(4, "big") + b
    v2 = bool(r.get("org_id"))
    out = (b"LKA2" if v2 else b"LKA1") + u64(r["seq"]) + u64(r["time_ms"])
    for name in STRINGS:
        if name != "org_id" or v2:
            out += text(r[name])
    out += u64(r["status"]) + text(r["source_ip"]) + text(r["user_agent"]) + text(prev_hash)
    return hashlib.sha256(out).hexdigest()


def exported_field(rec, path):
    """A string field of an exported record as latchkey encodes it: null is ""."""
    v = rec
    for part in path.split("."):
        v = v.get(part) if isinstance(v, dict) else None
    if v is None:
        return ""
    if not isinstance(v, str):
        raise ValueError("%s is not a string" % path)
    return v


def time_ms(text):
    """"2026-12-01T12:00:00.123Z" as Unix milliseconds."""
    if not isinstance(text, str) or len(text) != 24 or text[19] != "." or text[23] != "Z":
        raise ValueError("time %r is not YYYY-MM-DDTHH:MM:SS.mmmZ" % (text,))
    secs = calendar.timegm((int(text[0:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), int(text[14:16]),
                            int(text[17:19]), 0, 0, 0))
    return secs * 1000 + int(text[20:23])


def from_export(rec):
    """An exported record's fields under the store's column names."""
    r = {"seq": rec["seq"], "time_ms": time_ms(rec["time"]), "status": rec["status"]}
    for name in STRINGS + ("source_ip", "user_agent"):
        r[name] = exported_field(rec, EXPORTED.get(name, name))
    return r


# The file sink writes records in the order they were committed, which can
# run up to a batch ahead of seq order (a mutation commits its own record on
# its worker, reads get theirs in the writer's next batch): records are put
# back in seq order within a window this wide.
REORDER_WINDOW = 65536


def in_seq_order(lines):
    """(line number, record) from JSON lines, in seq order within the window.
    A line that cannot be read raises ValueError naming it."""
    heap = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            if not isinstance(rec, dict) or not isinstance(rec.get("seq"), int):
                raise ValueError("no integer seq")
        except ValueError as e:
            raise ValueError("line %d is not an exported record: %s" % (n, e))
        heapq.heappush(heap, (rec["seq"], n, rec))
        if len(heap) > REORDER_WINDOW:
            _, m, r = heapq.heappop(heap)
            yield m, r
    while heap:
        _, m, r = heapq.heappop(heap)
        yield m, r


def check(lines, anchor):
    count, prev_seq, prev_hash, anchored = 0, None, None, anchor is None
    try:
        for n, rec in in_seq_order(lines):
            try:
                seq, link, got = rec["seq"], rec["prev_hash"], rec["hash"]
                if not isinstance(rec["status"], int):
                    raise ValueError("status must be an integer")
                want = record_hash(from_export(rec), link)
            except (ValueError, KeyError, TypeError) as e:
                return 2, "line %d is not an exported record: %s" % (n, e)
            if prev_seq is None:
                if seq == 1 and link != GENESIS:
                    return 1, "BROKEN at record 1: its prev_hash is not the genesis link"
            elif seq != prev_seq + 1:
                return 1, "BROKEN at record %d: expected seq %d after %d (a record is missing or was inserted)" % (
                    seq, prev_seq + 1, prev_seq)
            elif link != prev_hash:
                return 1, "BROKEN at record %d: its prev_hash is not the hash of record %d" % (seq, prev_seq)
            if want != got:
                return 1, "BROKEN at record %d: its content does not match its hash" % seq
            if anchor is not None and seq == anchor[0]:
                if got != anchor[1]:
                    return 1, "BROKEN: anchored record %d has another hash than the anchor" % seq
                anchored = True
            prev_seq, prev_hash = seq, got
            count += 1
    except ValueError as e:
        return 2, str(e)
    if not anchored:
        return 1, "BROKEN: anchored record %d is missing (the trail was cut back)" % anchor[0]
    return 0, "intact: %d record(s)" % count


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("export", help="JSON lines from `latchkey operator audit export`, or - for standard input")
    ap.add_argument("--anchor", help="SEQ:HASH, as `latchkey operator audit head` prints it")
    args = ap.parse_args()
    anchor = None
    if args.anchor:
        seq, _, h = args.anchor.partition(":")
        if not seq.isdigit() or len(h) != 64:
            print("audit-verify: --anchor must be SEQ:HASH (64 hex digits)", file=sys.stderr)
            return 2
        anchor = (int(seq), h.lower())
    try:
        f = sys.stdin if args.export == "-" else open(args.export, encoding="utf-8")
        with f:
            status, msg = check(f, anchor)
    except OSError as e:
        print("audit-verify: %s" % e, file=sys.stderr)
        return 2
    if status < 2:
        print("audit chain %s" % msg)
    else:
        print("audit-verify: %s" % msg, file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
