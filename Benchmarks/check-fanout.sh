#!/usr/bin/env bash
# smtpd-tables check on fan-out alias tables: N aliases of 100 targets each, in four levels (an alias of one
# level names 50 aliases of the next level and 50 users; the last level names users only), so that one top
# alias reaches three quarters of the table. Every entry is resolved as smtpd would; the time must grow with
# the table (N x 100), not with the product of the fan-outs (a top alias alone expands to ~N x 75 nodes).
# Prints, per size: seconds and peak RSS of `check`, and of one `resolve` of a top alias for scale.
# Usage: bash Benchmarks/check-fanout.sh [SIZES...]      (default: 1000 2500 5000 10000)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 2500 5000 10000)
work="$(mktemp -d /tmp/smtpd-tables-fanout.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# The release build `make` makes (the same scratch path, so the two share one build).
(cd "$root" && swift build -c release --static-swift-stdlib --scratch-path .build-release --product smtpd-tables >&2)
tool="$root/.build-release/release/smtpd-tables"

# measure CMD...: "SECONDS RSS_MB" of one run (GNU time's %e and %M), output discarded.
measure() {
    /usr/bin/time -f '%e %M' -o "$work/time" "$@" >/dev/null 2>&1 || true
    awk '{ printf "%s %.0f\n", $1, $2 / 1024 }' "$work/time"
}

printf '%-8s %-10s %-14s %-12s %-14s\n' aliases targets check_s check_MB resolve_top_s
for n in "${sizes[@]}"; do
    dir="$work/$n"
    mkdir -p "$dir"
    python3 - "$dir" "$n" <<'PY'
import random, sys
d, n = sys.argv[1], int(sys.argv[2])
random.seed(n)
level = n // 4
users = 1000
with open(f"{d}/aliases", "w") as f:
    for i in range(n):
        lv = min(i // level, 3)
        t = [f"user{random.randrange(users)}" for _ in range(50 if lv < 3 else 100)]
        if lv < 3:
            lo = (lv + 1) * level
            hi = n if lv == 2 else lo + level
            t += [f"a{random.randrange(lo, hi)}" for _ in range(50)]
        f.write(f"a{i}: {', '.join(t)}\n")
with open(f"{d}/users", "w") as f:
    for u in range(users):
        f.write(f"user{u} 1000:1000:/nonexistent/user{u}\n")
with open(f"{d}/smtpd.conf", "w") as f:
    f.write(f"table aliases file:{d}/aliases\ntable users file:{d}/users\n"
            'action "local" mbox alias <aliases> userbase <users>\nmatch for local action "local"\n')
PY
    read -r cs cm < <(measure "$tool" check -f "$dir/smtpd.conf")
    read -r rs _ < <(measure "$tool" resolve -f "$dir/smtpd.conf" a0@localhost)
    printf '%-8s %-10s %-14s %-12s %-14s\n' "$n" $((n * 100)) "$cs" "$cm" "$rs"
done
