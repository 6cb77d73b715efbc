#!/usr/bin/env python3
"""Helpers of bench/load.sh (standard library only).

    loadkit.py variant IN OUT             players.csv with every player's points + 1
                                          (every player page and index page changes)
    loadkit.py cookies --api HOST:PORT --players CSV --out TSV [--limit N]
                                          logs players in through gen's API with the
                                          PINs of the roster; "slug<TAB>cookie" lines
    loadkit.py reqfiles --players CSV --cookies TSV --site DIR --dir OUT
                                          the request lists of the wrk scenarios
    loadkit.py check --addr HOST:PORT --urls FILE --known-a DIR --known-b DIR
                     --seconds S [--threads T]
                                          body checker under republishing: GETs pages
                                          (half with Accept-Encoding: gzip), gunzips,
                                          requires </html> at the end and the bytes of
                                          one of the two known versions; prints JSON
    loadkit.py fakegoogle --players CSV --matches CSV --port-file F --count-file F
                                          a fake Sheets API (values:batchGet only) on
                                          127.0.0.1:0, counting requests
"""

import argparse
import csv
import gzip
import hashlib
import http.client
import http.server
import json
import random
import re
import sys
import threading
import time
import urllib.parse
from pathlib import Path

COOKIE = "__Host-gen_session"


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def cmd_variant(args):
    rows = read_csv(args.inp)
    header, body = rows[0], rows[1:]
    points = header.index("points")
    for row in body:
        row[points] = str(int(row[points]) + 1)
    with open(args.out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(body)


def slugify(player_id):
    # synth.py ids are ASCII like p00042: their slug is the id, lower-cased.
    return player_id.lower()


def players(path):
    rows = read_csv(path)
    header = rows[0]
    i_id, i_name, i_pin = header.index("id"), header.index("name"), header.index("pin")
    return [(r[i_id], r[i_name], r[i_pin]) for r in rows[1:]]


def cmd_cookies(args):
    roster = players(args.players)[: args.limit or None]
    host, port = args.api.rsplit(":", 1)
    out = [None] * len(roster)
    errors = []
    lock = threading.Lock()
    next_index = [0]

    def worker():
        conn = None
        while True:
            with lock:
                k = next_index[0]
                next_index[0] += 1
            if k >= len(roster):
                break
            pid, name, pin = roster[k]
            body = urllib.parse.urlencode({"name": name, "pin": pin})
            for attempt in range(3):
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection(host, int(port), timeout=10)
                    conn.request("POST", "/api/login", body=body, headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "Host": f"127.0.0.1:{port}",
                    })
                    r = conn.getresponse()
                    r.read()
                    cookie = None
                    for k2, v in r.getheaders():
                        if k2.lower() == "set-cookie" and v.startswith(COOKIE + "="):
                            cookie = v.split(";", 1)[0]
                    if r.status != 303 or not cookie:
                        with lock:
                            errors.append(f"{pid}: {r.status}")
                    else:
                        out[k] = (slugify(pid), cookie)
                    if (r.getheader("Connection") or "").lower() == "close":
                        conn.close()
                        conn = None
                    break
                except (OSError, http.client.HTTPException) as e:
                    if conn is not None:
                        conn.close()
                    conn = None
                    if attempt == 2:
                        with lock:
                            errors.append(f"{pid}: {e}")

    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print(f"cookies: {len(errors)} logins failed, e.g. {errors[:3]}", file=sys.stderr)
        sys.exit(1)
    with open(args.out, "w", encoding="utf-8") as f:
        for slug, cookie in out:
            f.write(f"{slug}\t{cookie}\n")
    print(f"cookies: {len(out)} players logged in through the API in "
          f"{time.time() - t0:.1f} s", file=sys.stderr)


def public_paths(site):
    """Index pages and the login page, as URL paths."""
    paths = ["/"]
    page_dir = Path(site) / "page"
    if page_dir.is_dir():
        nums = sorted(int(p.name) for p in page_dir.iterdir() if p.name.isdigit())
        paths += [f"/page/{n}/" for n in nums]
    paths.append("/login/")
    return paths


def cmd_reqfiles(args):
    out = Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    cookies = [line.rstrip("\n").split("\t") for line in open(args.cookies, encoding="utf-8")]
    rng = random.Random(7)
    rng.shuffle(cookies)
    pub = public_paths(args.site)
    (out / "public.txt").write_text("".join(p + "\n" for p in pub))
    (out / "private.txt").write_text(
        "".join(f"/p/{slug}/\t{cookie}\n" for slug, cookie in cookies))
    (out / "bare_private.txt").write_text("".join(f"/p/{slug}/\n" for slug, _ in cookies))
    # Mixed (soak): one public request for every four private ones.
    mixed = []
    for k, (slug, cookie) in enumerate(cookies):
        mixed.append(f"/p/{slug}/\t{cookie}\n")
        if k % 4 == 3:
            mixed.append(pub[(k // 4) % len(pub)] + "\n")
    (out / "mixed.txt").write_text("".join(mixed))
    # Logins: half valid (first half of the roster), half invalid: unknown
    # names and wrong PINs on the other half (so no valid name gets locked by
    # gen's per-name limit), interleaved.
    roster = players(args.players)
    half = max(1, len(roster) // 2)
    valid = [urllib.parse.urlencode({"name": n, "pin": p}) for _, n, p in roster[:half]]
    invalid = []
    for k, (_, n, p) in enumerate(roster[half:]):
        if k % 2:
            wrong = f"{(int(p) + 1) % 1000000:06d}"
            invalid.append(urllib.parse.urlencode({"name": n, "pin": wrong}))
        else:
            invalid.append(urllib.parse.urlencode({"name": f"Nobody {k}", "pin": p}))
    logins = []
    for k in range(max(len(valid), len(invalid))):
        if k < len(valid):
            logins.append(valid[k])
        if k < len(invalid):
            logins.append(invalid[k])
    (out / "logins.txt").write_text("".join(b + "\n" for b in logins))
    # For the body checker: every path with its cookie (if any).
    (out / "check.txt").write_text(
        "".join(p + "\n" for p in pub)
        + "".join(f"/p/{slug}/\t{cookie}\n" for slug, cookie in cookies[:2000]))


AS_OF = re.compile(rb'<time datetime="[^"]*">.*?</time>', re.DOTALL)


def without_as_of(page):
    """The page with each "data as of" time (`<time datetime=...>...</time>`,
    issue 17) blanked, as tests/load.rs does: it says when the live site saw
    its data change, which no build made beforehand can know. Everything
    else must match version A or B byte for byte (issue 28)."""
    return AS_OF.sub(b"<time></time>", page)


def known_digest(root, path):
    rel = path.lstrip("/") + "index.html" if path.endswith("/") else path.lstrip("/")
    try:
        return hashlib.sha256(without_as_of((Path(root) / rel).read_bytes())).hexdigest()
    except OSError:
        return None


def cmd_check(args):
    lines = [l.rstrip("\n") for l in open(args.urls, encoding="utf-8") if l.strip()]
    urls = [(l.split("\t") + [None])[:2] for l in lines]
    known = {}
    for path, _ in urls:
        known[path] = {d for d in (known_digest(args.known_a, path),
                                   known_digest(args.known_b, path)) if d}
    host, port = args.addr.rsplit(":", 1)
    stats = {"requests": 0, "gzip": 0, "plain": 0, "torn": 0, "unknown_version": 0,
             "non_200": 0, "errors": 0}
    examples = []
    lock = threading.Lock()
    deadline = time.time() + args.seconds

    def worker(seed):
        rng = random.Random(seed)
        local = dict.fromkeys(stats, 0)
        conn = None
        while time.time() < deadline:
            path, cookie = urls[rng.randrange(len(urls))]
            use_gzip = rng.random() < 0.5
            headers = {"Host": f"127.0.0.1:{port}"}
            if use_gzip:
                headers["Accept-Encoding"] = "gzip"
            if cookie:
                headers["Cookie"] = cookie
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, int(port), timeout=10)
                conn.request("GET", path, headers=headers)
                r = conn.getresponse()
                body = r.read()
                local["requests"] += 1
                if r.status != 200:
                    local["non_200"] += 1
                    if len(examples) < 5:
                        examples.append(f"{path}: {r.status}")
                    continue
                if (r.getheader("Content-Encoding") or "") == "gzip":
                    local["gzip"] += 1
                    try:
                        body = gzip.decompress(body)
                    except (OSError, EOFError) as e:
                        local["torn"] += 1
                        if len(examples) < 5:
                            examples.append(f"{path}: bad gzip ({e})")
                        continue
                else:
                    local["plain"] += 1
                    if use_gzip:
                        examples.append(f"{path}: asked gzip, got plain")
                if not body.rstrip().endswith(b"</html>"):
                    local["torn"] += 1
                    if len(examples) < 5:
                        examples.append(f"{path}: no </html> at the end ({len(body)} bytes)")
                elif hashlib.sha256(without_as_of(body)).hexdigest() not in known[path]:
                    local["unknown_version"] += 1
                    if len(examples) < 5:
                        examples.append(f"{path}: bytes of neither known version")
            except (OSError, http.client.HTTPException) as e:
                local["errors"] += 1
                if len(examples) < 5:
                    examples.append(f"{path}: {e!r}")
                if conn is not None:
                    conn.close()
                conn = None
        with lock:
            for k, v in local.items():
                stats[k] += v

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats["examples"] = examples
    print(json.dumps(stats))


def cmd_checksummary(args):
    s = json.load(open(args.file, encoding="utf-8"))
    print(f"checker: {s['torn']} torn, {s['unknown_version']} of neither version, "
          f"{s['non_200']} non-200, {s['errors']} errors of {s['requests']} "
          f"({s['gzip']} gzip)")
    for e in s["examples"]:
        print("bench: checker: " + e, file=sys.stderr)


def cmd_fakegoogle(args):
    tabs = {"Players": read_csv(args.players), "Matches": read_csv(args.matches)}

    def a1(rows):
        width = max(len(r) for r in rows)
        col = ""
        n = width
        while n:
            n, rem = divmod(n - 1, 26)
            col = chr(65 + rem) + col
        return f"A1:{col}{len(rows)}"

    def body_for(query):
        ranges = urllib.parse.parse_qs(query).get("ranges", [])
        value_ranges = []
        for r in ranges:
            name = r.split("!")[0].strip("'")
            rows = tabs.get(name)
            if rows is None:
                return None
            value_ranges.append({"range": f"{name}!{a1(rows)}", "majorDimension": "ROWS",
                                 "values": rows})
        return json.dumps({"spreadsheetId": "bench", "valueRanges": value_ranges}).encode()

    count = [0]
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            path, _, query = self.path.partition("?")
            body = body_for(query) if path.endswith("values:batchGet") else None
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            with lock:
                count[0] += 1
                Path(args.count_file).write_text(f"{count[0]}\n")
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Path(args.count_file).write_text("0\n")
    Path(args.port_file).write_text(f"{server.server_address[1]}\n")
    server.serve_forever()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("variant")
    p.add_argument("inp")
    p.add_argument("out")
    p = sub.add_parser("cookies")
    p.add_argument("--api", required=True)
    p.add_argument("--players", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--threads", type=int, default=8)
    p = sub.add_parser("reqfiles")
    p.add_argument("--players", required=True)
    p.add_argument("--cookies", required=True)
    p.add_argument("--site", required=True)
    p.add_argument("--dir", required=True)
    p = sub.add_parser("check")
    p.add_argument("--addr", required=True)
    p.add_argument("--urls", required=True)
    p.add_argument("--known-a", required=True)
    p.add_argument("--known-b", required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--threads", type=int, default=4)
    p = sub.add_parser("checksummary")
    p.add_argument("file")
    p = sub.add_parser("fakegoogle")
    p.add_argument("--players", required=True)
    p.add_argument("--matches", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--count-file", required=True)
    args = ap.parse_args()
    {"variant": cmd_variant, "cookies": cmd_cookies, "reqfiles": cmd_reqfiles,
     "check": cmd_check, "checksummary": cmd_checksummary, "fakegoogle": cmd_fakegoogle}[args.cmd](args)


if __name__ == "__main__":
    main()
