"""The statements kyb sends for one `POST /v2/business_customer`, as a pgbench script, and the
direct rate of that transaction on PostgreSQL.

Usage: pgbench_create.py KYB_BINARY [--postgres-url URL] [--pg-log FILE] [--clients 1,8,32]
                         [--seconds 10] [--script-out FILE]

1. A fresh database with kyb's schema, statement logging on for it (`log_statement = all`), a
   platform, and two creates through the service; the statements and their parameters are read
   back from the PostgreSQL server's log (--pg-log, Debian's default path by default).
2. The script: the API key lookup, then BEGIN … COMMIT, each statement with its parameters
   written in. A parameter that differs between the two creates is made unique per transaction
   (`'<first value>' || :n` for text, `:n` for numbers, `\\set n` a random 62-bit number); times
   and JSON documents keep the first create's value. The script is written to --script-out.
3. pgbench runs it with -M prepared (kyb's statements are prepared too) and without TLS (kyb
   speaks plain TCP to PostgreSQL; pgbench would otherwise negotiate TLS) at each client count,
   each for --seconds, on the same database, and reports tps and latency percentiles from the
   per-transaction log.
"""
import argparse, os, re, shutil, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kyb_bench  # noqa: E402
from kyb_bench import Kyb, fresh_database  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("kyb")
ap.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/postgres")
ap.add_argument("--pg-log", default="/var/log/postgresql/postgresql-15-main.log")
ap.add_argument("--clients", default="1,8,32")
ap.add_argument("--seconds", type=int, default=10)
ap.add_argument("--script-out", default=None)
args = ap.parse_args()

db = "kyb_pgbench_create"
admin = args.postgres_url
url = fresh_database(admin, db)


def psql(sql, database=url):
    return kyb_bench.psql(sql, database)


kyb = Kyb(args.kyb, url)
psql(f"ALTER DATABASE {db} SET log_statement = 'all'")
start = os.path.getsize(args.pg_log)
srv, service = kyb.serve()
for i in (1, 2):
    kyb.create_customer(service, i)
srv.terminate(); srv.wait()
psql(f"ALTER DATABASE {db} RESET log_statement")
time.sleep(0.5)
with open(args.pg_log, encoding="utf-8", errors="replace") as f:
    f.seek(start)
    log = f.read()

# Statements of this database's connections, with the parameters of each.
entries = []  # (sql, [params])
line_re = re.compile(r"^\S+ \S+ \S+ \[\d+\] (\S+)@(\S+) (LOG|DETAIL):  (.*)$")
for line in log.splitlines():
    m = line_re.match(line)
    if not m or m.group(2) != db:
        if entries and not line_re.match(line) and entries[-1][2] == "params":
            entries[-1][1][-1] += "\n" + line  # a parameter value with a line break
        continue
    kind, text = m.group(3), m.group(4)
    if kind == "LOG":
        stmt = re.match(r"(?:execute [^:]+|statement): (.*)$", text)
        if stmt:
            entries.append([stmt.group(1), [], "sql"])
    elif kind == "DETAIL" and text.startswith("parameters: ") and entries:
        entries[-1][1] = [text[len("parameters: "):]]
        entries[-1][2] = "params"


def parse_params(detail):
    out, pos = {}, 0
    pat = re.compile(r"\$(\d+) = (NULL|'((?:[^']|'')*)')(, |$)", re.S)
    while pos < len(detail):
        m = pat.match(detail, pos)
        if not m:
            sys.exit(f"cannot read parameters at: {detail[pos:pos + 80]!r}")
        out[int(m.group(1))] = None if m.group(2) == "NULL" else m.group(3).replace("''", "'")
        pos = m.end()
    return out


creates, current = [], None
for sql, params, _ in entries:
    p = parse_params(params[0]) if params else {}
    if sql.startswith("SELECT k.id") and current is None:
        current = [(sql, p)]
    elif current is not None:
        current.append((sql, p))
        if sql == "COMMIT":
            creates.append(current)
            current = None
if len(creates) < 2 or [s for s, _ in creates[0]] != [s for s, _ in creates[1]]:
    sys.exit(f"expected two creates with the same statements in {args.pg_log}; found {len(creates)}")

TIME = re.compile(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d")


def quote(v):
    # pgbench reads `:name` as a variable even inside a string literal; an E'' literal spells
    # such a colon as \072, which is still one literal of unknown type (so it still fits a
    # jsonb column).
    if re.search(r":[A-Za-z_]", v):
        escaped = v.replace("\\", "\\\\").replace("'", "''")
        return "E'" + re.sub(r":(?=[A-Za-z_])", r"\\072", escaped) + "'"
    return "'" + v.replace("'", "''") + "'"


def value(a, b):
    if a is None:
        return "NULL"
    if a == b or TIME.match(a) or a[:1] in "{[" or a.startswith("\\x"):
        return quote(a)
    if re.fullmatch(r"-?\d+", a):
        return ":n"
    return f"({quote(a)} || CAST(:n AS text))"


script = ["\\set n random(1, 4611686018427387903)"]
for (sql, pa), (_, pb) in zip(*creates[:2]):
    def sub(m):
        i = int(m.group(1))
        return value(pa[i], pb.get(i))
    script.append(re.sub(r"\$(\d+)\b", sub, sql) + ";")
text = "\n".join(script) + "\n"
if args.script_out:
    with open(args.script_out, "w") as f:
        f.write(text)
statements = len(creates[0])
print(f"{statements} statements per create ({statements - 3} in the transaction, "
      f"besides BEGIN and COMMIT, and the key lookup before it)", flush=True)

tmp = tempfile.mkdtemp()
with open(os.path.join(tmp, "create.sql"), "w") as f:
    f.write(text)
for clients in [int(c) for c in args.clients.split(",")]:
    logdir = tempfile.mkdtemp()
    r = subprocess.run(["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", str(min(clients, 2)),
                        "-T", str(args.seconds), "-f", "create.sql", "-l", "--log-prefix",
                        os.path.join(logdir, "tx"), url.replace("postgres://", "postgresql://") + "?sslmode=disable"],
                       cwd=tmp, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(r.stderr[-2000:])
    tps = float(re.search(r"tps = ([\d.]+)", r.stdout).group(1))
    lat = []
    for name in os.listdir(logdir):
        with open(os.path.join(logdir, name)) as f:
            lat += [int(l.split()[2]) for l in f]
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))] / 1000
    print(f"pgbench, {clients} clients: {tps:,.0f} tx/s, p50 {q(0.5):.2f} ms, p99 {q(0.99):.2f} ms "
          f"({len(lat):,} transactions)", flush=True)
    shutil.rmtree(logdir)
psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)", admin)
