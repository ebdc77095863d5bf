#!/bin/sh
# The proc: backend's own rate: lookups per second through `smtpd-tables serve` over a socketpair, one
# synchronous client (Python) as smtpd's lookup process is: write a request, wait for its reply. The client's
# own cost is part of the figure. Not smtpd itself: the RCPT rate through smtpd is not measured here.
#
#   Benchmarks/proc-pipe-rate.sh [SMTPD_TABLES] [ENTRIES]     (default .build-release/release/smtpd-tables, 100000)
#
# Tables: ENTRIES vdomains (a third `*.` patterns) and ENTRIES vusers (a tenth `@domain` catch-alls); queries:
# half hits, half misses, checked as smtpd checks them (check|domain, check|mailaddr).
set -eu
bin=${1:-.build-release/release/smtpd-tables}
n=${2:-100000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$bin" "$n" "$dir" <<'PY'
import random, socket, subprocess, sys, time
bin, n, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = random.Random(16)
doms = [("*." if i % 3 == 0 else "") + f"d{i}.example" for i in range(n)]
users = [(f"@c{i}.example" if i % 10 == 0 else f"u{i}@v{i % 1000}.example") for i in range(n)]
open(f"{d}/vdomains", "w").write("\n".join(doms) + "\n")
open(f"{d}/vusers", "w").write("\n".join(users) + "\n")
def run(table, service, queries, seconds=3.0):
    ours, theirs = socket.socketpair()
    p = subprocess.Popen([bin, "serve", "--smtpd-version", "7.6", f"{d}/{table}"], stdin=theirs, stdout=theirs)
    theirs.close()
    ours.sendall(b"config|smtpd-version|7.6.0-portable\nconfig|protocol|0.1\nconfig|tablename|t\nconfig|ready\n")
    r = ours.makefile("rb")
    while r.readline() != b"register|ready\n": pass
    done, lat, start = 0, [], time.perf_counter()
    while time.perf_counter() - start < seconds:
        q = queries[done % len(queries)]
        t0 = time.perf_counter()
        ours.sendall(b"table|0.1|1.0|t|check|%s|%08x|%s\n" % (service, done, q))
        line = r.readline()
        lat.append(time.perf_counter() - t0)
        assert line.startswith(b"check-result|%08x|" % done), line
        done += 1
    el = time.perf_counter() - start
    ours.shutdown(socket.SHUT_RDWR); r.close(); ours.close(); p.wait()
    lat.sort()
    print(f"{table:9} {n:7} entries: {done/el:9.0f} lookups/s  p50 {lat[len(lat)//2]*1e6:6.1f} us  p99 {lat[int(len(lat)*.99)]*1e6:6.1f} us")
dq = [(f"x.d{rng.randrange(n)}.example" if k % 2 else f"nohit{k}.example").encode() for k in range(5000)]
uq = [(f"u{(i:=rng.randrange(n))}@v{i % 1000}.example" if k % 2 else f"someone@c{rng.randrange(n)}.example").encode() for k in range(5000)]
run("vdomains", b"domain", dq)
run("vusers", b"mailaddr", uq)
PY
