"""API latency while strangers flood the console sign-in: 120 sign-in tries from 120 client
addresses (127.0.0.2-121) at once, while one client times GET /v2/business_customer.
Usage: flood.py KYB_BINARY"""
import json, os, re, socket, statistics, subprocess, sys, tempfile, threading, time
import requests
from requests.adapters import HTTPAdapter

kyb = sys.argv[1]
d = tempfile.mkdtemp()
env = {k: v for k, v in os.environ.items() if not k.startswith("KYB_")}
env["KYB_WORKERS"] = "false"
env["KYB_API_RATE_LIMIT"] = "0"
base_cmd = [kyb, "--data-dir", d]
out = subprocess.run(base_cmd + ["platform", "create", "--name", "Bench", "--json"], env=env, capture_output=True, check=True)
key = json.loads(out.stdout)["api_key"]
subprocess.run(base_cmd + ["operator", "create", "--email", "admin@x.test", "--role", "admin", "--password-stdin"], env=env, input=b"a long enough password\n", check=True, capture_output=True)
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
srv = subprocess.Popen(base_cmd + ["serve", "--listen", f"127.0.0.1:{port}"], env=env, stderr=subprocess.DEVNULL)
url = f"http://127.0.0.1:{port}"
for _ in range(100):
    try:
        requests.get(url + "/console/login", timeout=1); break
    except Exception:
        time.sleep(0.1)

class Source(HTTPAdapter):
    def __init__(self, ip): self.ip = ip; super().__init__()
    def init_poolmanager(self, *a, **kw):
        kw["source_address"] = (self.ip, 0); super().init_poolmanager(*a, **kw)

def sign_in(ip):
    sess = requests.Session(); sess.mount("http://", Source(ip))
    html = sess.get(url + "/console/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    sess.post(url + "/console/login", data={"csrf": csrf, "email": "admin@x.test", "password": "wrong password!!"}, allow_redirects=False)

def api_latencies(n):
    sess = requests.Session()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        r = sess.get(url + "/v2/business_customer", headers={"ngnc-sec-key": key})
        assert r.status_code == 200, r.status_code
        out.append((time.perf_counter() - t) * 1000)
    return out

quiet = api_latencies(50)
threads = [threading.Thread(target=sign_in, args=(f"127.0.0.{i}",)) for i in range(2, 122)]
for t in threads: t.start()
loaded = api_latencies(50)
for t in threads: t.join()
srv.terminate(); srv.wait()
def p(xs, q): xs = sorted(xs); return xs[min(len(xs) - 1, int(q * len(xs)))]
print(f"{os.path.basename(kyb)}: quiet p50 {p(quiet,.5):.1f} ms p95 {p(quiet,.95):.1f} ms | during flood p50 {p(loaded,.5):.1f} ms p95 {p(loaded,.95):.1f} ms")
