"""Audit log growth: time and peak memory of `kyb audit seal`, `verify` and `export` on a log of
N rows (default one million), on SQLite or PostgreSQL.

Usage: audit_growth.py KYB_BINARY [--rows N] [--db sqlite|postgres] [--postgres-url URL]

A platform is made with the CLI (two real audit rows); N synthetic rows, copies of its
`api_key.created` row with new ids and times, are inserted with SQL (as requests would write
them: no place in the log yet). Then, each under /usr/bin/time -v: `kyb audit seal` (numbers
them and builds the tree, a checkpoint per 1,000 rows), `kyb audit verify`, `kyb audit export`.
Peak memory is the process's maximum resident set; the PostgreSQL server's is not counted.
"""
import argparse, os, re, sqlite3, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kyb_bench import Kyb, fresh_database, psql  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("kyb")
ap.add_argument("--rows", type=int, default=1_000_000)
ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
ap.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/postgres")
args = ap.parse_args()

url = fresh_database(args.postgres_url, "kyb_audit_growth") if args.db == "postgres" else None
kyb = Kyb(args.kyb, url, "Growth")
d, env, base, platform = kyb.dir, kyb.env, kyb.base, kyb.platform

t0 = time.time()
copy = """INSERT INTO audit_log (id, platform_id, livemode, actor_type, actor_id, action, target_type,
  target_id, request_id, client_addr, details, created_at)
SELECT {id}, platform_id, livemode, actor_type, actor_id, action, target_type, target_id,
  request_id, client_addr, details, created_at
FROM audit_log, {series} WHERE platform_id = '{p}' AND action = 'api_key.created'"""
if args.db == "sqlite":
    con = sqlite3.connect(os.path.join(d, "kyb.db"))
    series = f"(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {args.rows}) SELECT n FROM s)"
    con.execute(copy.format(id="'aud_growth' || n", series=series, p=platform))
    con.commit()
    con.close()
else:
    series = f"generate_series(1, {args.rows}) AS n"
    psql(copy.format(id="'aud_growth' || n", series=series, p=platform), url)
print(f"{args.db}: {args.rows:,} rows inserted in {time.time() - t0:.0f} s", flush=True)


def measured(cmd, stdout=subprocess.DEVNULL):
    t = time.time()
    r = subprocess.run(["/usr/bin/time", "-v"] + base + cmd, env=env, stdout=stdout,
                       stderr=subprocess.PIPE, text=True)
    took = time.time() - t
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stderr[-3000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    print(f"{args.db}: kyb {' '.join(cmd)}: {took:.1f} s, peak RSS {rss / 1024:.1f} MiB", flush=True)
    return r


measured(["audit", "seal"])
r = measured(["audit", "verify"], stdout=subprocess.PIPE)
print("   ", [l for l in r.stdout.splitlines() if platform in l][0])
export = os.path.join(d, "audit.jsonl")
measured(["audit", "export", "--platform", platform, "--output", export])
with open(export) as f:
    lines = sum(1 for _ in f)
print(f"{args.db}: exported {lines:,} rows ({os.path.getsize(export) / 2**20:.0f} MiB)")
if url:
    psql("DROP DATABASE IF EXISTS kyb_audit_growth WITH (FORCE)", args.postgres_url)
