"""Do create, list and the events page stay flat from a thousand to a million customers?

Usage: explain_growth.py KYB_BINARY [--postgres-url URL] [--sizes 1000,1000000]

On a fresh PostgreSQL database migrated by kyb: a platform (CLI), then one real customer made
through the API by the service. Its rows (customer, link, events, audit rows) are copied with
SQL, with new ids, up to each size in turn. At each size, every query below runs as kyb runs
it, a prepared statement with a generic plan (what PostgreSQL settles on after five runs of a
prepared statement; `plan_cache_mode = force_generic_plan`), under EXPLAIN (ANALYZE, BUFFERS):
the plan's shape, the buffers it touched and its time. The statements are copied from
kyb-store/src/repo.rs; keep them in step.
"""
import argparse, os, re, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kyb_bench  # noqa: E402
from kyb_bench import Kyb, fresh_database  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("kyb")
ap.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/postgres")
ap.add_argument("--sizes", default="1000,1000000")
args = ap.parse_args()

db = "kyb_explain_growth"
admin = args.postgres_url
url = fresh_database(admin, db)


def psql(sql, database=url):
    return kyb_bench.psql(sql, database)


kyb = Kyb(args.kyb, url, "Growth")
platform = kyb.platform
srv, service = kyb.serve()
customer = kyb.create_customer(service, 1)
srv.terminate(); srv.wait()


def columns(table):
    return psql(f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}' "
                f"AND is_identity = 'NO' ORDER BY ordinal_position").split()


# What changes in each copy n: ids, the customer they point at, the e-mail key and link token.
fresh = {
    "business_customers": {"id", "email_key", "business_email"},
    "kyb_links": {"id", "customer_id", "token_hash"},
    "events": {"id", "customer_id"},
    "audit_log": {"id", "target_id"},
}
originals = {
    "business_customers": f"id = '{customer}'",
    "kyb_links": f"customer_id = '{customer}'",
    "events": f"customer_id = '{customer}'",
    "audit_log": f"target_id = '{customer}' OR target_id IN "
                 f"(SELECT id FROM kyb_links WHERE customer_id = '{customer}')",
}


def grow(start, end):
    for table, changed in fresh.items():
        cols = columns(table)
        exprs = [f"{c} || '_' || n" if c in changed else
                 ("NULL" if c in ("platform_seq", "prev_hash", "hash") else c) for c in cols]
        # The originals first (materialised), so the copy is one pass, not a scan per copy.
        psql(f"WITH o AS MATERIALIZED (SELECT * FROM {table} WHERE {originals[table]}) "
             f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(exprs)} "
             f"FROM o, generate_series({start}, {end}) AS n ORDER BY n")
    psql("VACUUM ANALYZE")


# (name, statement with $n or None for the one before, its parameters). No cursor is bound as
# the largest seq, as kyb does.
MAX = 2**63 - 1
LIST = ("SELECT c.id, c.verification_status FROM business_customers c LEFT JOIN kyb_links l ON l.id = ("
        "SELECT cl.id FROM kyb_links cl WHERE cl.customer_id = c.id AND cl.used_at IS NULL "
        "AND cl.revoked_at IS NULL AND cl.expires_at > $1 ORDER BY cl.created_at DESC LIMIT 1) "
        "WHERE c.platform_id = $2 AND c.livemode = $3 AND c.seq < $4 ")
queries = [
    ("create: is the e-mail a customer already",
     "SELECT id FROM business_customers WHERE platform_id = $1 AND livemode = $2 AND email_key = $3",
     [platform, False, "nobody@growth.example"]),
    ("list: the cursor's place",
     "SELECT seq FROM business_customers WHERE platform_id = $1 AND livemode = $2 AND id = $3",
     [platform, False, customer + "_500"]),
    ("list customers: first page of 10",
     LIST + "ORDER BY c.seq DESC LIMIT $5",
     ["2020-01-01T00:00:00Z", platform, False, MAX, 11]),
    ("list customers: a page deep in the list",
     None, ["2020-01-01T00:00:00Z", platform, False, "MIDDLE", 11]),
    ("list customers: status approved (none are)",
     LIST + "AND c.verification_status = 'approved' ORDER BY c.seq DESC LIMIT $5",
     ["2020-01-01T00:00:00Z", platform, False, MAX, 11]),
    ("events page: first page of 10",
     "SELECT data FROM events WHERE platform_id = $1 AND livemode = $2 AND seq < $3 "
     "ORDER BY seq DESC LIMIT $4",
     [platform, False, MAX, 11]),
    ("events page: a page deep in the list",
     None, [platform, False, "MIDDLE_EVENT", 11]),
    ("events page: type business_customer.created",
     "SELECT data FROM events WHERE platform_id = $1 AND livemode = $2 AND seq < $3 "
     "AND type = 'business_customer.created' ORDER BY seq DESC LIMIT $4",
     [platform, False, MAX, 11]),
    ("events page: business_customer.submitted (none are)",
     "SELECT data FROM events WHERE platform_id = $1 AND livemode = $2 AND seq < $3 "
     "AND type = 'business_customer.submitted' ORDER BY seq DESC LIMIT $4",
     [platform, False, MAX, 11]),
    ("audit log page: first page of 10",
     "SELECT id FROM audit_log WHERE platform_id = $1 AND (livemode IS NULL OR livemode = $2) "
     "AND seq < $3 ORDER BY seq DESC LIMIT $4",
     [platform, False, MAX, 11]),
]


def literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


sizes = [int(x) for x in args.sizes.split(",")]
have = 1
print(f"PostgreSQL {psql('SHOW server_version').strip()}; generic plans; times are EXPLAIN ANALYZE's")
for size in sizes:
    t = time.time()
    grow(have, size - 1)
    have = size
    middle = psql(f"SELECT seq FROM business_customers ORDER BY seq OFFSET {size // 2} LIMIT 1").strip()
    middle_event = psql(f"SELECT seq FROM events ORDER BY seq OFFSET {size} LIMIT 1").strip()
    print(f"\n## {size:,} customers (grown in {time.time() - t:.0f} s)", flush=True)
    last = None
    for name, sql, params in queries:
        sql = sql or last
        last = sql
        params = [{"MIDDLE": middle, "MIDDLE_EVENT": middle_event}.get(p, p) if isinstance(p, str) else p
                  for p in params]
        plan = psql("SET plan_cache_mode = force_generic_plan; "
                    f"PREPARE q AS {sql}; "
                    f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, SUMMARY ON) EXECUTE q({', '.join(literal(p) for p in params)});")
        lines = plan.strip().splitlines()
        shape = [l.strip() for l in lines if re.search(r"Scan|Sort|Limit|Join|Loop", l)]
        buffers = next((l.strip() for l in lines if "Buffers" in l), "")
        ms = next((l.split(":")[1].strip() for l in lines if l.startswith("Execution Time")), "?")
        print(f"- {name}: {ms}; {buffers}\n    " + "\n    ".join(shape), flush=True)
psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)", admin)
