#!/usr/bin/env bash
# RCPT TO through the real smtpd 7.6 (Debian 13 root) on loopback, with the tables as smtpd's own file: tables
# and served by our table-idx over the proc: protocol, side by side in one run. Prints a markdown table.
#
#   sudo bash Benchmarks/proc-rcpt-rate.sh [ROOT] [HELPERS] [SECONDS] [ENTRIES...]
#     ROOT      a root made by .ci/debian-root trixie (default /var/cache/smtpd-tables/roots/trixie)
#     HELPERS   folder with the static table-idx (default .build-release/release, from `make`)
#     SECONDS   per measurement (default 5); ENTRIES: table sizes (default 100000 10)
#     KEEP=1    keeps the scratch folder (configurations, smtpd logs) for reading afterwards
#
# Tables (as Benchmarks/proc-pipe-rate.sh): N vdomains (a third `*.` patterns), matched by
# `match for domain <vdomains>`, and N vusers (a tenth `@domain` catch-alls), matched by `match rcpt-to <vusers>`;
# both are domain/mailaddr checks, which smtpd answers for a file: table by walking every entry. The action
# relays, so nothing is delivered and the RCPT reply is the whole cost. Queries: half hits, half misses.
# The client (python3 on this machine) sends one RCPT at a time on one connection and times each reply;
# MAIL FROM is sent again (after RSET) every 100 recipients.
set -euo pipefail
cd "$(dirname "$0")/.."
root=${1:-/var/cache/smtpd-tables/roots/trixie}
helpers=${2:-.build-release/release}
seconds=${3:-5}
shift 3 2>/dev/null || shift $#
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 10)
[ "$(id -u)" = 0 ] || { echo "proc-rcpt-rate: run as root (mount namespaces, chroot)" >&2; exit 2; }
[ -x "$root/usr/sbin/smtpd" ] || { echo "proc-rcpt-rate: no smtpd in $root (.ci/debian-root trixie)" >&2; exit 2; }
[ -x "$helpers/table-idx" ] || { echo "proc-rcpt-rate: no $helpers/table-idx (run make)" >&2; exit 2; }

dir=$(mktemp -d /tmp/proc-rcpt-rate.XXXXXX)
chmod 755 "$dir"
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    [ -n "${KEEP:-}" ] || rm -rf "$dir"
    rmdir "$root$dir" 2>/dev/null || true
}
trap cleanup EXIT
mkdir -m 755 "$dir/libexec"
install -m 755 "$helpers/table-idx" "$dir/libexec/table-idx"

# Tables and queries, generated once per size.
python3 - "$dir" "${sizes[@]}" <<'PY'
import random, sys
d = sys.argv[1]
for n in map(int, sys.argv[2:]):
    rng = random.Random(16)
    doms = [("*." if i % 3 == 0 else "") + f"d{i}.example" for i in range(n)]
    users = [(f"@c{i}.example" if i % 10 == 0 else f"u{i}@v{i % 1000}.example") for i in range(n)]
    open(f"{d}/vdomains-{n}", "w").write("\n".join(doms) + "\n")
    open(f"{d}/vusers-{n}", "w").write("\n".join(users) + "\n")
    dq, uq = [], []
    for k in range(4000):
        i = rng.randrange(n)
        dq.append((f"x@a.d{i}.example" if i % 3 == 0 else f"x@d{i}.example") if k % 2 else f"x@nohit{k}.example")
        i = rng.randrange(n)
        uq.append((f"someone@c{i - i % 10}.example" if k % 4 == 1 else f"u{i | 1}@v{(i | 1) % 1000}.example")
                  if k % 2 else f"nobody{k}@v{k % 1000}.example")
    open(f"{d}/vdomains-{n}.q", "w").write("\n".join(dq) + "\n")
    open(f"{d}/vusers-{n}.q", "w").write("\n".join(uq) + "\n")
PY
chmod 644 "$dir"/*

cat >"$dir/client.py" <<'PY'
import socket, sys, time
port, queries, seconds = int(sys.argv[1]), open(sys.argv[2]).read().split(), float(sys.argv[3])
def connect():
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    def reply():
        while True:
            line = f.readline()
            if not line: raise EOFError("connection closed")
            if line[3:4] != b"-": return line
    reply()
    s.sendall(b"EHLO bench.test\r\n"); reply()
    return s, reply
s, reply = connect()
lat, accepted, done, reconnects = [], 0, 0, 0
start = time.perf_counter()
while time.perf_counter() - start < seconds:
    try:
        if done % 100 == 0:
            s.sendall(b"RSET\r\n"); reply()
            s.sendall(b"MAIL FROM:<>\r\n"); reply()
        q = queries[done % len(queries)]
        t0 = time.perf_counter()
        s.sendall(b"RCPT TO:<%s>\r\n" % q.encode())
        r = reply()
    except (EOFError, OSError) as e:
        if reconnects == 0: print("client:", repr(e), file=sys.stderr)
        # smtpd ends a session after too many refused recipients: a new one, not timed.
        s, reply = connect(); reconnects += 1; done -= done % 100; continue
    lat.append(time.perf_counter() - t0)
    accepted += r.startswith(b"250")
    done += 1
elapsed = time.perf_counter() - start
lat.sort()
print(f"{len(lat) / elapsed:.0f} {lat[len(lat) // 2] * 1e6:.0f} {lat[int(len(lat) * .99)] * 1e6:.0f} "
      f"{accepted / max(1, len(lat)):.2f} {reconnects}")
PY

# One daemon per (table, size, backend), with that table and its rule only (a miss on a first rule would also
# walk the table of the next); our helper laid over PATH_LIBEXEC in the private mount namespace only (the root
# is not changed).
measure() {  # TABLE SIZE BACKEND -> "table size backend rate p50 p99 accepted-share reconnects"
    local table=$1 n=$2 backend=$3 port conf rule
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    conf="$dir/smtpd-$table-$n-$backend.conf"
    if [ "$table" = vdomains ]; then rule="for domain <vdomains>"; else rule="for any rcpt-to <vusers>"; fi
    printf '%s\n' "table $table $backend:$dir/$table-$n" "listen on 127.0.0.1 port $port" 'action "out" relay' \
        "match from any $rule action \"out\"" >"$conf"
    bash .ci/in-root "$root" "$dir" /bin/bash -c \
        'cp -an "$1"/. "$2"/ && mount --bind "$2" "$1" && shift 2 && exec "$@"' bash \
        /usr/libexec/opensmtpd "$dir/libexec" /usr/sbin/smtpd -d -f "$conf" >"$conf.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null && break
        sleep 0.1
    done
    echo "$table $n $backend $(python3 "$dir/client.py" "$port" "$dir/$table-$n.q" "$seconds")"
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
}

results=$dir/results
for n in "${sizes[@]}"; do
    for table in vdomains vusers; do
        measure "$table" "$n" file >>"$results"
        measure "$table" "$n" idx >>"$results"
    done
done
echo "$(chroot "$root" /usr/sbin/smtpd -h 2>&1 | grep -o 'OpenSMTPD [^ ]*' | head -n 1)," \
     "$(nproc) cores, ${seconds} s a measurement, one client, one RCPT at a time"
echo
echo "| table | entries | backend | RCPT/s | p50 | p99 | accepted | vs file: |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
awk '{ key = $1 " " $2; if ($3 == "file") base[key] = $4
       printf "| %s | %d | %s | %d | %d µs | %d µs | %d%% | %s |\n", $1, $2, ($3 == "idx" ? "idx: (table-idx)" : "file:"), \
           $4, $5, $6, $7 * 100, ($3 == "idx" && base[key] > 0 ? sprintf("%.1fx", $4 / base[key]) : "") }' "$results"
if grep -q 'fatal\|table-proc\|error' "$dir"/*.conf.log; then
    echo; echo "smtpd reported:"; grep -h 'fatal\|table-proc\|error' "$dir"/*.conf.log | sort | uniq -c | head
fi
