#!/usr/bin/env bash
# Ours against the real tools, side by side in one run, with the ratios the benchmark targets ask for:
#   1. makemap: ours vs /usr/sbin/makemap building the same 1M-entry aliases map (median of RUNS)
#   2. db: exact lookups: ours (the map loaded by Table) vs a plain libdb DB->get loop (default cache)
#   3. pattern lookups (domain, mailaddr, netaddr) on 100k entries: ours vs the reference walk smtpd does
#   4. file: table load of 1M lines: MB/s, and resident memory against the file size
#   5. full resolution of addresses under an smtpd.conf (vusers with catch-alls, a userbase)
# Needs: swift, cc, libdb-dev, and opensmtpd's makemap (Debian: apt-get install opensmtpd libdb-dev).
# Usage: bash Benchmarks/compare.sh [WORKDIR]      (RUNS=3 by default; WORKDIR defaults to a temporary dir)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
runs="${RUNS:-3}"
work="${1:-$(mktemp -d /tmp/smtpd-tables-compare.XXXXXX)}"
mkdir -p "$work"

echo "== building (release)" >&2
(cd "$root" && swift build -c release --product makemap >&2)
(cd "$here" && swift build -c release --product tables-bench >&2)
ours_makemap="$root/.build/release/makemap"
bench="$here/.build/release/tables-bench"
cc -O2 -o "$work/libdb-get" "$here/C/libdb-get.c" -ldb
real_makemap=/usr/sbin/makemap
[ -x "$real_makemap" ] || { echo "compare.sh: $real_makemap not found (apt-get install opensmtpd)" >&2; exit 1; }

echo "== generating fixtures in $work" >&2
"$bench" generate "$work" 100000 1000000 >&2

# field NAME LINE: the value of NAME=... in a tables-bench line.
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t) ? "met" : "MISSED" }'; }
# median_time CMD...: the median wall time in seconds of RUNS runs of CMD (its output discarded).
median_time() {
    local times=()
    for _ in $(seq "$runs"); do
        local t0 t1
        t0=$(date +%s.%N)
        "$@" >/dev/null 2>&1
        t1=$(date +%s.%N)
        times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

rows=()
row() { rows+=("$(printf '| %s | %s | %s | %s | %s |' "$@")"); }

# 1. makemap on 1M aliases
src="$work/aliases-1000000"
real_s=$(median_time "$real_makemap" -o "$work/real.db" "$src")
ours_s=$(median_time "$ours_makemap" -o "$work/ours.db" "$src")
r=$(ratio "$real_s" "$ours_s")
row "makemap, 1M-entry aliases.db (median of $runs)" "${ours_s} s" "${real_s} s (/usr/sbin/makemap)" "${r}x" "≥ 4x: $(verdict "$r" 4)"

# 2. db: exact lookups, 100k keys of the same maps, best of 5 rounds. A bare DB->get loop against our lookup
#    alone; then both with the stat(2) before each lookup that smtpd's table_db does to notice a rebuilt map.
for n in 100000 1000000; do
    "$ours_makemap" -o "$work/aliases-$n.db" "$work/aliases-$n"
    keys="$work/aliases-$n.keys"
    label=$([ "$n" = 1000000 ] && echo 1M || echo 100k)
    c=$("$work/libdb-get" "$work/aliases-$n.db" "$keys" 5)
    o=$("$bench" lookup "db:$work/aliases-$n.db" "$keys" --service alias --rounds 5 --check-changes no)
    m=$("$bench" lookup "db:$work/aliases-$n.db" "$keys" --service alias --rounds 5 --check-changes no --api contains)
    cn=$(field ns_per_op "$c"); on=$(field ns_per_op "$o"); mn=$(field ns_per_op "$m")
    r=$(ratio "$cn" "$on"); rm=$(ratio "$cn" "$mn")
    row "db: exact lookup, $label-key map, lookup (value copied out)" "$on ns" "$cn ns (libdb DB->get)" "${r}x" "≥ 5x: $(verdict "$r" 5)"
    row "db: exact lookup, $label-key map, contains" "$mn ns" "$cn ns (libdb DB->get)" "${rm}x" "≥ 5x: $(verdict "$rm" 5)"
    c=$("$work/libdb-get" "$work/aliases-$n.db" "$keys" 5 stat)
    o=$("$bench" lookup "db:$work/aliases-$n.db" "$keys" --service alias --rounds 5)
    cn=$(field ns_per_op "$c"); on=$(field ns_per_op "$o")
    row "db: exact lookup, $label-key map, each with smtpd's stat(2)" "$on ns" "$cn ns (stat + DB->get)" "$(ratio "$cn" "$on")x" "(same work as smtpd)"
done

# 3. pattern lookups on 100k entries vs the reference walk (which is also checked to agree)
for pair in vdomains:domain vusers:mailaddr netaddr:netaddr; do
    kind=${pair%%:*}; svc=${pair##*:}
    t="$work/$kind-100000"; q="$t.queries"
    o=$("$bench" lookup "file:$t" "$q" --service "$svc" --rounds 3)
    s=$("$bench" scan "file:$t" "$q" --service "$svc" --limit 100)
    [ "$(field mismatches "$s")" = 0 ] || { echo "compare.sh: index and walk disagree: $s" >&2; exit 1; }
    on=$(field ns_per_op "$o"); sn=$(field ns_per_op "$s")
    r=$(ratio "$sn" "$on")
    row "$svc lookup, 100k entries ($kind)" "$on ns" "$sn ns (walk of every entry)" "${r}x" "≥ 1000x: $(verdict "$r" 1000)"
done

# 4. file: table load, 1M lines: rate (best of 3 in one process), then resident memory in a fresh process
for kind in aliases vusers vdomains netaddr; do
    f="$work/$kind-1000000"
    l=$("$bench" load "$f" --runs 3)
    mbps=$(field mb_per_s "$l"); bytes=$(field bytes "$l")
    rss=$(/usr/bin/time -f '%M' "$bench" load "$f" --runs 1 2>&1 >/dev/null | tail -n 1)
    rl=$("$bench" load "$f" --runs 1)
    trss=$(field table_rss_kb "$rl")
    x=$(awk -v r="$rss" -v b="$bytes" 'BEGIN { printf "%.2f", r * 1024 / b }')
    tx=$(awk -v r="$trss" -v b="$bytes" 'BEGIN { printf "%.2f", r * 1024 / b }')
    mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')
    ok=$(awk -v m="$mbps" 'BEGIN { print (m >= 200) ? "met" : "MISSED" }')
    okm=$(awk -v x="$x" 'BEGIN { print (x < 3) ? "met" : "MISSED" }')
    row "file: load, 1M lines ($kind, $mb MB)" "$mbps MB/s" "" "" "≥ 200 MB/s: $ok"
    row "file: load, 1M lines ($kind), resident" "max RSS $((rss / 1024)) MB = ${x}x file; table alone ${tx}x" "" "" "< 3x: $okm"
done

# 5. full resolution under an smtpd.conf (no baseline: smtpd resolves only over SMTP)
o=$("$bench" resolve "$work" 100000 --limit 20000)
row "resolve, vusers 100k + catch-alls + userbase (per address)" "$(field ns_per_op "$o") ns" "" "" "accepted $(field accepted "$o")/$(field queries "$o")"

echo
echo "| measure | ours | reference | ratio | target |"
echo "| --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
echo
echo "(machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); load average $(cut -d' ' -f1-3 /proc/loadavg))"
