#!/usr/bin/env python3
"""Independent verifier of a platform's audit transparency log as kyb serves it.

    python3 tools/verify_audit.py --url http://127.0.0.1:8080 --key sk_test_... \\
        [--trusted-key VERIFIER_KEY] [--state FILE] [--checkpoint NOTE_FILE]
    python3 tools/verify_audit.py --self-test

Written from the specifications, not from kyb's code; it needs Python 3.11 and `cryptography`.

1. The newest checkpoint (GET /v2/audit/checkpoint) is a C2SP tlog-checkpoint body (origin, tree
   size, base64 root) in a C2SP signed-note, signed with Ed25519 (c2sp.org/signed-note,
   c2sp.org/tlog-checkpoint). Its signature is checked with --trusted-key, else the key pinned in
   the state file, else the key kyb serves (trusted on first use, with a warning, and pinned).
   The key's name must be the origin; the served origin, size and root must be the signed ones.
2. Every audit row the API key can see (GET /v2/audit_logs) that the checkpoint covers is
   hashed here: leaf = canonical JSON of ["kyb-audit-leaf-v1", platform_id, id, livemode,
   actor type, actor id, action, target type, target id, request_id, client address, details,
   created_at], leaf hash = SHA-256(0x00 || leaf) (RFC 6962 §2.1). Its inclusion proof
   (GET /v2/audit_logs/{id}/proof) must lead to the signed root (RFC 9162 §2.1.3.2).
3. An earlier checkpoint (from --state, or a note the platform kept, e.g. from a webhook, given
   with --checkpoint) is verified, and the newest must extend it by a consistency proof
   (GET /v2/audit/consistency, RFC 9162 §2.1.4.2). The newest is then saved to --state.

A key sees its own mode's rows and platform-wide rows; the tree holds both modes, so gaps in the
sequences are expected and rows hidden from the key are checked only through the roots.
Exit status: 0 all holds, 1 a verification failed (each failure is named), 2 HTTP/network error.
"""
import argparse, base64, binascii, datetime, hashlib, json, os, re, sys, time
import urllib.error, urllib.parse, urllib.request
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class Failure(Exception):
    """A verification failed (exit 1)."""


class FetchError(Exception):
    """kyb could not be reached or answered with an error (exit 2)."""
    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


# --- canonical JSON (serde_json's output, object keys sorted bytewise) ---

class Number(str):
    """A JSON number literal kept verbatim: kyb hashed serde_json's text of it, which it serves."""


def load_json(text):
    def no_constant(name):
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, parse_int=Number, parse_float=Number, parse_constant=no_constant)


SHORT_ESCAPES = {'"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t'}


def json_string(s):
    return '"' + ''.join(SHORT_ESCAPES.get(c) or (f'\\u{ord(c):04x}' if ord(c) < 0x20 else c)
                         for c in s) + '"'


def _canonical(v):
    if v is None:
        return 'null'
    if v is True or v is False:
        return 'true' if v else 'false'
    if isinstance(v, Number):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json_string(v)
    if isinstance(v, list):
        return '[' + ','.join(_canonical(x) for x in v) + ']'
    if isinstance(v, dict):
        items = sorted(v.items(), key=lambda kv: kv[0].encode('utf-8'))
        return '{' + ','.join(json_string(k) + ':' + _canonical(x) for k, x in items) + '}'
    raise TypeError(f"no canonical JSON for {type(v).__name__} (floats must come as Number)")


def canonical_json(v):
    return _canonical(v).encode('utf-8')


# --- the leaves and RFC 6962 / RFC 9162 Merkle proofs ---

def leaf_bytes(row, platform_id):
    """The row's leaf, computed from the row as the API lists it."""
    t = datetime.datetime.fromisoformat(row['created_at'])
    if t.tzinfo is None:
        raise ValueError(f"created_at {row['created_at']!r} has no time zone")
    created = t.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')
    return canonical_json([
        'kyb-audit-leaf-v1', platform_id, row['id'], row['livemode'], row['actor']['type'],
        row['actor']['id'], row['action'], row['target']['type'], row['target']['id'],
        row['request_id'], row['client_address'], row['details'], created])


def leaf_hash(data):
    return hashlib.sha256(b'\x00' + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b'\x01' + left + right).digest()


def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162 §2.1.3.2: is `leaf` the leaf at `index` of the tree of `size` with `root`?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_root, second_root, proof):
    """RFC 9162 §2.1.4.2: does the tree of `second` leaves extend the one of `first`?"""
    if not 1 <= first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = ([first_root] if first & (first - 1) == 0 else []) + list(proof)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root


# --- C2SP signed-note and tlog-checkpoint ---

def b64d(s, what='base64'):
    try:
        return base64.b64decode(s, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise Failure(f"{what} is not base64: {s!r}") from None


def valid_name(name):
    return bool(name) and '+' not in name and not any(c.isspace() for c in name)


def parse_verifier_key(vkey):
    """`name+hexid+base64(0x01 || key)` -> (name, 4-byte key id, 32-byte Ed25519 key)."""
    parts = vkey.strip().split('+', 2)  # base64 may hold '+' too
    if len(parts) != 3 or not valid_name(parts[0]) or not re.fullmatch(r'[0-9a-f]{8}', parts[1]):
        raise Failure(f"malformed verifier key {vkey!r}")
    name, raw = parts[0], b64d(parts[2], 'the verifier key')
    if len(raw) != 33 or raw[0] != 1:
        raise Failure(f"verifier key {vkey!r} is not an Ed25519 key (0x01 || 32 bytes)")
    key_id = hashlib.sha256(name.encode() + b'\n' + raw).digest()[:4]
    if key_id.hex() != parts[1]:
        raise Failure(f"verifier key {vkey!r}: its key id is not SHA-256(name, key)'s {key_id.hex()}")
    return name, key_id, raw[1:]


def parse_note(note):
    """A signed note -> (text, [(name, key id, signature)])."""
    if any(ord(c) < 0x20 and c != '\n' for c in note) or not note.endswith('\n'):
        raise Failure("malformed note: control characters, or no final newline")
    split = note.rfind('\n\n')
    if split < 0:
        raise Failure("malformed note: no blank line before the signatures")
    text, sigs = note[:split + 1], []
    for line in note[split + 2:].split('\n')[:-1]:
        name, _, sig = line.removeprefix('— ').partition(' ')
        raw = b64d(sig, 'a note signature') if line.startswith('— ') and sig else b''
        if not valid_name(name) or len(raw) < 5:
            raise Failure(f"malformed note signature line {line!r}")
        sigs.append((name, raw[:4], raw[4:]))
    return text, sigs


def verify_note(note, vkey):
    """The note's text, if the key `vkey` signed it (C2SP signed-note, Ed25519)."""
    name, key_id, pub = parse_verifier_key(vkey)
    text, sigs = parse_note(note)
    for sig_name, sig_id, sig in sigs:
        if sig_name == name and sig_id == key_id:
            try:
                Ed25519PublicKey.from_public_bytes(pub).verify(sig, text.encode('utf-8'))
                return text
            except InvalidSignature:
                raise Failure(f"the note's signature by {name} does not verify") from None
    raise Failure(f"the note carries no signature by {name}+{key_id.hex()}")


def open_checkpoint(note, vkey):
    """Verified (origin, size, root) of a signed C2SP tlog-checkpoint."""
    lines = verify_note(note, vkey).split('\n')
    if len(lines) < 4 or not lines[0] or not re.fullmatch(r'0|[1-9][0-9]*', lines[1]) \
            or any(not extra for extra in lines[3:-1]):
        raise Failure("the signed note is not a tlog-checkpoint (origin, size, root)")
    root = b64d(lines[2], 'the checkpoint root')
    if len(root) != 32 or base64.b64encode(root).decode() != lines[2]:
        raise Failure("the checkpoint's root is not the base64 of 32 bytes")
    if lines[0] != parse_verifier_key(vkey)[0]:
        raise Failure(f"the checkpoint is of {lines[0]!r}, not of the key's log {vkey.split('+')[0]!r}")
    return lines[0], int(lines[1]), root


# --- kyb's API ---

class Api:
    def __init__(self, url, key):
        self.base, self.key = url.rstrip('/'), key

    def get(self, path, **params):
        """The JSON document kyb answers, retrying while rate limited (429)."""
        url = self.base + path + ('?' + urllib.parse.urlencode(params) if params else '')
        headers = {'ngnc-sec-key': self.key, 'accept': 'application/json'}
        for attempt in range(6):
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as resp:
                    return load_json(resp.read().decode('utf-8'))
            except urllib.error.HTTPError as e:
                if e.code == 429 and attempt < 5:
                    time.sleep(min(float(e.headers.get('retry-after') or 1), 10))
                    continue
                try:
                    message = json.loads(e.read())['error']['message']
                except (ValueError, KeyError, TypeError):
                    message = e.reason
                raise FetchError(f"GET {url}: HTTP {e.code}: {message}", e.code) from None
            except (urllib.error.URLError, OSError) as e:
                raise FetchError(f"GET {url}: {getattr(e, 'reason', e)}") from None
            except ValueError as e:
                raise FetchError(f"GET {url}: the answer is not JSON: {e}") from None


def as_int(v, what):
    if isinstance(v, bool) or not re.fullmatch(r'-?[0-9]+', str(v)):
        raise Failure(f"{what} is not a whole number: {v!r}")
    return int(v)


def same_checkpoint(note, vkey, size, root, what):
    """A note kyb serves with a proof must be the checkpoint the proof is checked against."""
    _, s, r = open_checkpoint(note, vkey)
    if (s, r) != (size, root):
        raise Failure(f"{what} is a signed checkpoint of size {s}, root {base64.b64encode(r).decode()}, "
                      f"not the one verified of size {size}: kyb signed two histories")


def check_row(api, row, seq, platform_id, size, root, vkey):
    """What is wrong with one row the tree of `size` holds (RFC 9162 §2.1.3.2); [] if nothing."""
    try:
        computed = leaf_hash(leaf_bytes(row, platform_id))
    except (KeyError, TypeError, ValueError) as e:
        return [f"its leaf cannot be formed from the row as listed: {e!r}"]
    try:
        p = api.get(f"/v2/audit_logs/{urllib.parse.quote(row['id'], safe='')}/proof", tree_size=size)['data']
        same_checkpoint(p['checkpoint'], vkey, size, root, "the checkpoint served with its proof")
        proof = [b64d(h, 'a proof hash') for h in p['proof']]
        why = []
        if row.get('leaf_hash') is not None and b64d(row['leaf_hash'], 'leaf_hash') != computed:
            why.append("the leaf_hash listed with it differs from the hash of the row as listed")
        if as_int(p['tree_size'], 'tree_size') != size:
            why.append(f"the proof is for tree size {p['tree_size']}, not {size}")
        if as_int(p['leaf_index'], 'leaf_index') != seq - 1:
            why.append(f"leaf_index {p['leaf_index']} is not its sequence - 1")
        if b64d(p['leaf_hash'], 'leaf_hash') != computed:
            why.append("the proof's leaf_hash differs from the hash of the row as listed")
        if not verify_inclusion(seq - 1, size, computed, proof, root):
            why.append("the inclusion proof of the row as listed does not lead to the signed root")
        return why
    except FetchError as e:
        if e.status not in (400, 404):
            raise
        return [f"kyb would not prove it is in the tree of {size}: {e}"]
    except Failure as e:
        return [str(e)]
    except (KeyError, TypeError) as e:
        return [f"the proof lacks a field: {e!r}"]


def verify_rows(api, platform_id, size, root, vkey):
    """Checks every row the key sees that the tree of `size` holds: (verified, pending, problems)."""
    verified, pending, problems, seen, after = 0, 0, [], {}, None
    while True:
        page = api.get('/v2/audit_logs', limit=100, **({'starting_after': after} if after else {}))
        for row in page['data']:
            after, seq = row['id'], row.get('sequence')
            if seq is None or as_int(seq, f"row {after}'s sequence") > size:
                pending += 1  # written after the checkpoint, or not sealed yet
                continue
            seq = int(seq)
            if seq < 1 or seq in seen:
                problems.append(f"row {after}: sequence {seq} is not its own place in the log "
                                f"(also that of {seen.get(seq)})")
                continue
            seen[seq] = after
            why = check_row(api, row, seq, platform_id, size, root, vkey)
            problems += [f"row {after} (sequence {seq}): {w}" for w in why]
            verified += not why
        if not page['has_more']:
            return verified, pending, problems
        if not page['data']:
            raise FetchError("GET /v2/audit_logs: has_more, but an empty page")


def verify_extends(api, label, note, vkey, size, root):
    """The newest checkpoint (size, root) extends the earlier signed `note` (RFC 9162 §2.1.4.2)."""
    try:
        _, old, old_root = open_checkpoint(note, vkey)
    except Failure as e:
        raise Failure(f"the earlier checkpoint ({label}): {e}") from None
    if old > size:
        raise Failure(f"the earlier checkpoint ({label}) holds {old} rows, the newest only {size}: "
                      "the log was cut back")
    try:
        c = api.get('/v2/audit/consistency', **{'from': old, 'to': size})['data']
    except FetchError as e:
        if e.status != 400:
            raise
        raise Failure(f"kyb would not prove that its tree of {size} extends the earlier checkpoint "
                      f"of {old} ({label}): {e}") from None
    same_checkpoint(c['from_checkpoint'], vkey, old, old_root, f"from_checkpoint (size {old})")
    same_checkpoint(c['to_checkpoint'], vkey, size, root, f"to_checkpoint (size {size})")
    proof = [b64d(h, 'a proof hash') for h in c['proof']]
    if not verify_consistency(old, size, old_root, root, proof):
        raise Failure(f"the consistency proof from {old} ({label}) to {size} does not hold: "
                      "the log was rewritten")
    return old


def read_note(path):
    """A signed note kept in a file: the note itself, or JSON holding it (a webhook event's
    `audit_checkpoint`, a checkpoint object) under the key `note`."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    try:
        doc = json.loads(text)
    except ValueError:
        return text
    stack = [doc]
    while stack:
        v = stack.pop()
        if isinstance(v, dict) and isinstance(v.get('note'), str):
            return v['note']
        stack += list(v.values()) if isinstance(v, dict) else v if isinstance(v, list) else []
    raise ValueError(f"{path} holds JSON without a signed note (`note`)")


def run(args):
    try:  # the files first: a mistake in them is found before any request
        state = {}
        if args.state and os.path.exists(args.state):
            with open(args.state, encoding='utf-8') as f:
                state = json.load(f)
        older = [(f"state file {args.state}", state['checkpoint']['note'])] if state.get('checkpoint') else []
        if args.checkpoint:
            older.append((args.checkpoint, read_note(args.checkpoint)))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        print(f"error: reading the state or checkpoint file: {e}", file=sys.stderr)
        return 2
    api = Api(args.url, args.key)
    cp = api.get('/v2/audit/checkpoint')['data']
    pinned, served = state.get('verifier_key'), cp['verifier_key']
    if args.trusted_key and pinned and args.trusted_key != pinned:
        raise Failure(f"--trusted-key differs from the key pinned in {args.state} ({pinned})")
    vkey = args.trusted_key or pinned or served
    if not (args.trusted_key or pinned):
        print(f"warning: trusting kyb's own key on first use: {served}"
              + (f" (pinned in {args.state})" if args.state else " (give --state to pin it)"), file=sys.stderr)
    if served != vkey:
        raise Failure(f"kyb serves the key {served}, not the trusted {vkey}")
    origin, size, root = open_checkpoint(cp['note'], vkey)
    if (origin, size, root) != (cp['origin'], as_int(cp['tree_size'], 'tree_size'), b64d(cp['root_hash'])):
        raise Failure("the checkpoint's origin, tree_size or root_hash differ from the signed note's")
    verified, pending, problems = verify_rows(api, origin.rsplit('/', 1)[-1], size, root, vkey)
    checked = []
    for label, note in older:
        try:
            checked.append(f"{verify_extends(api, label, note, vkey, size, root)} ({label})")
        except Failure as e:
            problems.append(str(e))
    for p in problems:
        print(f"FAIL: {p}", file=sys.stderr)
    if args.state and not problems:
        state = {'verifier_key': vkey, 'checkpoint': {
            'origin': origin, 'tree_size': size, 'root_hash': base64.b64encode(root).decode(), 'note': cp['note']}}
        with open(args.state + '.tmp', 'w', encoding='utf-8') as f:
            json.dump(state, f, indent=2)
        os.replace(args.state + '.tmp', args.state)
    print(f"origin: {origin}\ntree size: {size}\nrows verified: {verified} "
          f"({pending} not in this checkpoint yet)\ncheckpoints checked: newest {size}"
          + ''.join(f"; extends {c}" for c in checked))
    print('FAILED' if problems else 'OK: every check holds')
    return 1 if problems else 0


# --- self-test: RFC 6962 §2.1 MTH, PATH and PROOF, written the straightforward way ---

def _k(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _mth(d):
    if len(d) <= 1:
        return leaf_hash(d[0]) if d else hashlib.sha256(b'').digest()
    return node_hash(_mth(d[:_k(len(d))]), _mth(d[_k(len(d)):]))


def _path(m, d):
    if len(d) <= 1:
        return []
    k = _k(len(d))
    return _path(m, d[:k]) + [_mth(d[k:])] if m < k else _path(m - k, d[k:]) + [_mth(d[:k])]


def _subproof(m, d, b):
    if m == len(d):
        return [] if b else [_mth(d)]
    k = _k(len(d))
    return _subproof(m, d[:k], b) + [_mth(d[k:])] if m <= k else _subproof(m - k, d[k:], False) + [_mth(d[:k])]


def self_test():
    flip = lambda h, bit=0: bytes([h[0] ^ (1 << bit)]) + h[1:]
    flips = lambda p: [p[:i] + [flip(p[i], i % 8)] + p[i + 1:] for i in range(len(p))]
    checks = 0
    for n in range(1, 21):
        d = [f"row {i}".encode() for i in range(n)]
        root = _mth(d)
        for m in range(n):
            p, leaf = _path(m, d), leaf_hash(d[m])
            assert verify_inclusion(m, n, leaf, p, root), (m, n)
            bad = [(m, n, flip(leaf), p, root), (m, n, leaf, p, flip(root)), (m, n, leaf, p + [root], root),
                   (n, n, leaf, p, root)] + [(m, n, leaf, q, root) for q in flips(p)]
            bad += [(m, n, leaf, p[:-1], root)] if p else []
            bad += [((m + 1) % n, n, leaf, p, root)] if n > 1 else []
            assert not any(verify_inclusion(*b) for b in bad), (m, n)
            checks += 1 + len(bad)
        for m in range(1, n + 1):
            p, old = _subproof(m, d, True), _mth(d[:m])
            assert verify_consistency(m, n, old, root, p), (m, n)
            bad = [(m, n, flip(old), root, p), (m, n, old, flip(root), p), (m, n, old, root, p + [root])]
            bad += [(m, n, old, root, q) for q in flips(p)] + ([(m, n, old, root, p[:-1])] if p else [])
            assert not any(verify_consistency(*b) for b in bad), (m, n)
            checks += 1 + len(bad)
    row = ['kyb-audit-leaf-v1', 'plat_1', 'aud_1', False, 'api_key', 'key_1', 'business_customer.created',
           'business_customer', 'cust_1', None, '127.0.0.1', {'b': 1, 'a': [True, None]}, '2023-11-14T22:13:21.123456Z']
    want = (b'["kyb-audit-leaf-v1","plat_1","aud_1",false,"api_key","key_1","business_customer.created",'
            b'"business_customer","cust_1",null,"127.0.0.1",{"a":[true,null],"b":1},"2023-11-14T22:13:21.123456Z"]')
    assert canonical_json(row) == want
    listed = load_json('{"id":"aud_1","sequence":1,"created_at":"2023-11-14T22:13:21.123456Z","livemode":false,'
                       '"actor":{"type":"api_key","id":"key_1"},"action":"business_customer.created","target":'
                       '{"type":"business_customer","id":"cust_1"},"request_id":null,"client_address":"127.0.0.1",'
                       '"details":{"b":1,"a":[true,null]}}')
    assert leaf_bytes(listed, 'plat_1') == want
    assert canonical_json(load_json('{"é/\\u0001\\u007f":[1.50e3,-0,"\\"\\\\\\b\\f\\n\\r\\t\\u001f"]}')) == \
        '{"é/\\u0001\x7f":[1.50e3,-0,"\\"\\\\\\b\\f\\n\\r\\t\\u001f"]}'.encode()
    vkey = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'  # Go's sumdb/note vector
    msg = ("If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n"
           "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")
    assert verify_note(msg, vkey).startswith('If you think')
    for bad in (msg.replace('answer', 'question'), msg.replace('— Peter', '— Paul')):
        try:
            verify_note(bad, vkey)
            raise AssertionError('a changed note verified')
        except Failure:
            checks += 1
    sk = Ed25519PrivateKey.from_private_bytes(bytes([8]) * 32)  # its key's base64 holds '+' and '/'
    pub, name = b'\x01' + sk.public_key().public_bytes_raw(), 'kyb.example/audit/plat_1'
    kid = hashlib.sha256(name.encode() + b'\n' + pub).digest()[:4]
    vk = f"{name}+{kid.hex()}+{base64.b64encode(pub).decode()}"
    sign = lambda text, n=name: text + f"\n— {n} " + base64.b64encode(kid + sk.sign(text.encode())).decode() + '\n'
    body = f"{name}\n8\n{base64.b64encode(root).decode()}\n"
    assert open_checkpoint(sign(body), vk) == (name, 8, root)
    for bad in (sign(body.replace('plat_1', 'plat_2')), sign(body).replace('\n8\n', '\n9\n'), sign(body, 'other')):
        try:
            open_checkpoint(bad, vk)
            raise AssertionError('a wrong checkpoint opened')
        except Failure:
            checks += 1
    print(f"self-test OK: {checks} checks (inclusion and consistency for sizes 1..20, canonical JSON, signed notes)")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--url', help="kyb's base URL, e.g. http://127.0.0.1:8080")
    ap.add_argument('--key', help='an API key of the platform (ngnc-sec-key)')
    ap.add_argument('--trusted-key', help='the log\'s verifier key, name+id+base64, pinned out of band')
    ap.add_argument('--state', help='JSON file: the pinned key and the last verified checkpoint')
    ap.add_argument('--checkpoint', help='a file holding a signed checkpoint note kept earlier')
    ap.add_argument('--self-test', action='store_true', help='check this verifier without kyb')
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if not (args.url and args.key):
        ap.error('--url and --key are required')
    try:
        return run(args)
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    except FetchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (KeyError, TypeError) as e:
        print(f"error: kyb's answer lacks an expected field: {e!r}", file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
