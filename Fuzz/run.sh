#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for a time or a number of inputs; exits non-zero on any crash,
# hang, memory blow-up or build failure.
#
#   Fuzz/run.sh [-t SECONDS | -n RUNS] [-j JOBS] [-b | -r] [TARGET...]      (default: -t 60, every target)
#
#   -t SECONDS  run each target this long (libFuzzer -max_total_time)
#   -n RUNS     run each target on this many inputs in all (libFuzzer -runs)
#   -j JOBS     split the run into JOBS fuzzer processes, each on RUNS/JOBS inputs (or for SECONDS), as many at
#               once as there are cores, all on one shared working corpus (libFuzzer -jobs and -workers); their
#               logs go to Fuzz/.work/<target>.jobs/. More jobs than cores keeps every process young: one that has
#               run for an hour does half the inputs per second of a fresh one.
#   -b          build only
#   -r          run the binaries as last built (for a long run while the sources change)
# Corpora: each target starts from the seeds in Fuzz/Corpus/<target>/ and grows a working corpus in
# Fuzz/.work/<target>/ (kept between runs, not committed). A finding is written to Fuzz/.work/artifacts/
# as <target>-crash-…, -timeout-… or -oom-…; replay one with `Fuzz/.build/release/<target> FILE`.
# Limits per input: 10 s (a hang), 2 GiB RSS, 512 MiB in one allocation; 4 KiB long (FuzzDBFile: 32 KiB).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mode=(-max_total_time=60)
runs=
jobs=1
build_only=0
run_only=0
while getopts "t:n:j:br" opt; do
    case $opt in
    t) mode=(-max_total_time="$OPTARG"); runs= ;;
    n) runs=$OPTARG ;;
    j) jobs=$OPTARG ;;
    b) build_only=1 ;;
    r) run_only=1 ;;
    *) echo "usage: $0 [-t SECONDS | -n RUNS] [-j JOBS] [-b | -r] [TARGET...]" >&2; exit 2 ;;
    esac
done
case $jobs in ''|*[!0-9]*|0) echo "$0: -j takes a positive number" >&2; exit 2 ;; esac
[ -z "$runs" ] || mode=(-runs=$(( (runs + jobs - 1) / jobs )))
shift $((OPTIND - 1))
all=$(sed -n 's/^ *"\(Fuzz[A-Za-z]*\)",.*/\1/p' "$here/Package.swift")
targets=("$@")
[ ${#targets[@]} -gt 0 ] || read -r -d '' -a targets <<<"$all"

mkdir -p "$here/.work"
if [ "$run_only" = 0 ]; then
    echo "== build (release, -sanitize=fuzzer,address)"
    start=$(date +%s)
    # -enable-testing: FuzzMatchers compares the indexes with the library's internal reference walk.
    swift build -c release --package-path "$here" -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
        -Xswiftc -enable-testing >"$here/.work/build.log" 2>&1
    status=$?
    grep -v -e "Cannot export local symbol '__asan_extra_spill_area'" -e '^\[[0-9]*/[0-9]*\]' "$here/.work/build.log"
    if [ $status -ne 0 ]; then echo "build failed" >&2; exit 2; fi
    echo "built in $(( $(date +%s) - start )) s"
    [ "$build_only" = 1 ] && exit 0
fi

bin=$(swift build -c release --package-path "$here" --show-bin-path)
artifacts="$here/.work/artifacts"
mkdir -p "$artifacts"
# The Swift runtime's own crash reporter would take the signals libFuzzer needs to save the input.
export SWIFT_BACKTRACE=enable=no
# No allocation stacks (a third of the time goes to collecting them): replay a finding with
# ASAN_OPTIONS=detect_leaks=0 to see them.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:malloc_context_size=0}
# FuzzDBFile and FuzzForwardFile write every input to a file: on tmpfs when there is one (1.6x the inputs/s).
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi
failed=()
summary=()
for t in "${targets[@]}"; do
    work="$here/.work/$t"
    mkdir -p "$work"
    log="$here/.work/$t.log"
    # Database seeds are whole files of 4 KiB pages: let FuzzDBFile's inputs hold a few pages.
    max_len=4096
    [ "$t" = FuzzDBFile ] && max_len=32768
    parallel=()
    rundir=$here/.work
    if [ "$jobs" -gt 1 ]; then
        # libFuzzer writes each job's output to fuzz-<job>.log in the current directory.
        rundir=$here/.work/$t.jobs
        rm -rf "$rundir" && mkdir -p "$rundir"
        cores=$(nproc 2>/dev/null || echo 1)
        parallel=(-jobs="$jobs" -workers=$(( jobs < cores ? jobs : cores )))
    fi
    echo "== $t (${mode[*]} ${parallel[*]})"
    start=$(date +%s)
    (cd "$rundir" && exec "$bin/$t" "${mode[@]}" "${parallel[@]}" -timeout=10 -rss_limit_mb=2048 \
        -malloc_limit_mb=512 -max_len=$max_len -print_final_stats=1 -artifact_prefix="$artifacts/$t-" \
        "$work" "$here/Corpus/$t") >"$log" 2>&1
    status=$?
    secs=$(( $(date +%s) - start ))
    logs=("$log")
    [ "$jobs" -gt 1 ] && logs=("$rundir"/fuzz-*.log)
    execs=$(cat "${logs[@]}" | sed -n 's/^stat::number_of_executed_units: *//p' | awk '{ n += $1 } END { print n }')
    corpus=$(find "$work" -type f | wc -l)
    line="$t: status $status, ${execs:-?} inputs, $secs s, corpus $corpus files"
    summary+=("$line")
    echo "$line"
    if [ $status -ne 0 ]; then
        failed+=("$t")
        cat "${logs[@]}" | grep -E -m 20 'ERROR|Fatal error|SUMMARY|Test unit written|crash|timeout|out-of-memory' >&2
    fi
done
echo "== summary"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: ${failed[*]} (inputs in $artifacts, logs in $here/.work/)" >&2
    exit 1
fi
echo "no crash, hang or memory blow-up"
