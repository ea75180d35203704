"""kyb's statements for one `POST /v2/business_customer`, straight into SQLite through Python's
`sqlite3` driver (the C library and a thin binding, no Rust, no thread hand-offs): the direct
rate on SQLite, the counterpart of pgbench on PostgreSQL.

Usage: sqlite_direct.py DATABASE SCRIPT --clients N --transactions T

DATABASE is a SQLite file with kyb's schema and the platform the script names (the benchmark
makes one with `kyb platform create`). SCRIPT is the pgbench script of a create
(`pgbench_create.sql`, recorded from the statements kyb sends; the SQL of the two databases is
the same text, see `kyb-store/src/repo.rs`), read in SQLite's terms as kyb sends it there:

- no advisory lock (SQLite serialises writers; kyb takes none there); `BEGIN IMMEDIATE`, as
  kyb's writes begin;
- a batch of two statements (`WITH first AS (a) b` on PostgreSQL) is the two statements;
- literals as SQLite holds them: booleans 0/1, times with `+00:00`, bytes as blobs, `E''`
  strings plain; `:n`, a random 62-bit number per transaction, makes ids and keys unique.

Each of N threads has its own connection (WAL, synchronous=FULL, foreign keys, a 10 s busy
timeout: kyb's settings) and runs whole transactions until T are done. Prints one JSON line:
{"elapsed": seconds, "latencies_us": [...]}.
"""
import argparse, json, random, re, sqlite3, sys, threading, time

ap = argparse.ArgumentParser()
ap.add_argument("database")
ap.add_argument("script")
ap.add_argument("--clients", type=int, default=1)
ap.add_argument("--transactions", type=int, default=1000)
args = ap.parse_args()


def literals(sql):
    """Splits `sql` into (is_literal, text) pieces; a literal keeps its quotes (and E prefix)."""
    out, i, start = [], 0, 0
    while i < len(sql):
        escaped = sql[i] in "Ee" and sql[i + 1:i + 2] == "'" and (i == 0 or not sql[i - 1].isalnum())
        if sql[i] == "'" or escaped:
            if i > start:
                out.append((False, sql[start:i]))
            j = i + (2 if escaped else 1)
            while True:
                if escaped and sql[j] == "\\":
                    j += 2
                elif sql[j] == "'" and sql[j + 1:j + 2] == "'":
                    j += 2
                elif sql[j] == "'":
                    break
                else:
                    j += 1
            out.append((True, sql[i:j + 1]))
            i = start = j + 1
        else:
            i += 1
    if start < len(sql):
        out.append((False, sql[start:]))
    return out


TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?\+00$")


def sqlite_literal(lit):
    if lit[0] in "Ee":
        body = lit[2:-1].replace("''", "'")
        body = re.sub(r"\\([0-7]{3}|.)", lambda m: chr(int(m.group(1), 8)) if len(m.group(1)) == 3 else m.group(1), body)
    else:
        body = lit[1:-1].replace("''", "'")
    if body in ("t", "f"):
        return "1" if body == "t" else "0"
    if body.startswith("\\x"):
        return "X'" + body[2:] + "'"
    if TIME.match(body):
        body += ":00"
    return "'" + body.replace("'", "''") + "'"


def translate(sql):
    text = "".join(sqlite_literal(t) if lit else t for lit, t in literals(sql))
    if text.startswith("WITH first AS ("):
        # The first statement ends at the parenthesis that closes the WITH (outside literals).
        depth, pieces = 0, literals(text[len("WITH first AS ("):])
        first = ""
        for n, (lit, t) in enumerate(pieces):
            if lit:
                first += t
                continue
            for k, c in enumerate(t):
                if c == "(":
                    depth += 1
                elif c == ")":
                    if depth == 0:
                        rest = t[k + 1:] + "".join(p for _, p in pieces[n + 1:])
                        return [first + t[:k], rest.strip()]
                    depth -= 1
            first += t
        sys.exit(f"unbalanced batch: {sql[:80]}")
    return [text]


lookup, transaction = None, []
for line in open(args.script, encoding="utf-8"):
    line = line.rstrip("\n")
    if not line or line.startswith("\\"):
        continue
    sql = line.rstrip(";")
    if "pg_try_advisory_xact_lock" in sql:
        continue
    if sql == "BEGIN":
        sql = "BEGIN IMMEDIATE"
    if lookup is None:
        lookup = sql
    else:
        transaction.extend(translate(sql))
if transaction[0] != "BEGIN IMMEDIATE" or transaction[-1] != "COMMIT":
    sys.exit("the script is not a key lookup then one transaction")


def connect():
    c = sqlite3.connect(args.database, isolation_level=None, timeout=10, check_same_thread=False)
    c.execute("PRAGMA journal_mode = WAL")
    c.execute("PRAGMA synchronous = FULL")
    c.execute("PRAGMA foreign_keys = ON")
    return c


# Each statement checked once before the clock starts: a translation SQLite refuses fails here.
check = connect()
check.execute(lookup).fetchall()
for sql in transaction[:-1]:
    check.execute(sql, {"n": 1}).fetchall()
check.execute("ROLLBACK")
check.close()

counter, lock, latencies = [0], threading.Lock(), []


def client():
    conn, mine = connect(), []
    rng = random.Random()
    while True:
        with lock:
            if counter[0] >= args.transactions:
                break
            counter[0] += 1
        n = {"n": rng.randrange(1, 1 << 62)}
        t = time.perf_counter()
        conn.execute(lookup).fetchall()
        for sql in transaction:
            conn.execute(sql, n).fetchall()
        mine.append(int((time.perf_counter() - t) * 1e6))
    conn.close()
    with lock:
        latencies.extend(mine)


started = time.perf_counter()
threads = [threading.Thread(target=client) for _ in range(args.clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps({"elapsed": time.perf_counter() - started, "latencies_us": latencies}))
