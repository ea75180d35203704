"""What the Python benchmarks share: a fresh PostgreSQL database, the kyb binary with a
platform of its own, the service on a free port, and creates through the API."""
import json, os, socket, subprocess, sys, tempfile, time, urllib.error, urllib.request


def psql(sql, database):
    """Runs SQL with psql; its output (unaligned, tuples only). Exits naming the statement on
    an error."""
    r = subprocess.run(["psql", database, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"psql failed: {r.stderr}\n{sql[:2000]}")
    return r.stdout


def fresh_database(admin_url, name):
    """Drops and creates database `name` on the server of `admin_url`; its URL."""
    psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", admin_url)
    psql(f"CREATE DATABASE {name}", admin_url)
    return admin_url.rsplit("/", 1)[0] + "/" + name


class Kyb:
    """The kyb binary on a data directory of its own (and `database_url`, else SQLite there),
    with no background workers and no rate limit; `platform`, `key`: a platform made for it."""

    def __init__(self, binary, database_url=None, name="Bench"):
        self.dir = tempfile.mkdtemp()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KYB_")}
        self.env.update(KYB_WORKERS="false", KYB_API_RATE_LIMIT="0")
        if database_url:
            self.env["KYB_DATABASE_URL"] = database_url
        self.base = [binary, "--data-dir", self.dir]
        created = json.loads(self.run(["platform", "create", "--name", name, "--json"]).stdout)
        self.platform, self.key = created["platform_id"], created["api_key"]

    def run(self, args, **kw):
        return subprocess.run(self.base + args, env=self.env, capture_output=True, check=True, **kw)

    def serve(self):
        """Starts the service on a free port; (process, base URL). Stop it with `terminate`."""
        s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
        proc = subprocess.Popen(self.base + ["serve", "--listen", f"127.0.0.1:{port}"],
                                env=self.env, stderr=subprocess.DEVNULL)
        return proc, f"http://127.0.0.1:{port}"

    def create_customer(self, url, i):
        """`POST /v2/business_customer` with customer number `i`, retried while the service
        starts; the customer id."""
        body = json.dumps({
            "business_name": f"Bench {i} Ltd", "business_email": f"ops{i}@bench.example",
            "phone_number": "+1-555-0123",
            "registered_address": "1 Main St, Springfield, IL 62701",
            "registered_country": "USA"}).encode()
        for _ in range(100):
            req = urllib.request.Request(
                f"{url}/v2/business_customer", data=body,
                headers={"ngnc-sec-key": self.key, "idempotency-key": f"bench-{i}-{time.time()}",
                         "content-type": "application/json"})
            try:
                return json.load(urllib.request.urlopen(req))["customer_id"]
            except urllib.error.HTTPError as e:
                sys.exit(f"creating customer {i}: HTTP {e.code}: {e.read()[:500]}")
            except OSError:
                time.sleep(0.1)
        sys.exit("the service did not start")
