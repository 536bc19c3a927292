#!/usr/bin/env bash
# Runs fuzz targets one after the other, each for SECONDS on one worker, from its corpus in
# fuzz/corpus/<target>/ (seeded first by fuzz/seed.sh), and fails when any of them finds a crash,
# a hang (an input taking over 10 s) or an out-of-memory (over 2 GiB in all, or in one allocation).
#
#   fuzz/run.sh 20                      # every target, 20 s each
#   fuzz/run.sh 600 device_session      # a 10-minute campaign of one target
#   SANITIZER=none fuzz/run.sh 15       # CI's smoke run: no AddressSanitizer (the crate forbids
#                                       # unsafe code), so the build and the runs take less time
#
# What a target found is in fuzz/artifacts/<target>/; the log of each run in fuzz/logs/<target>.log.
# Needs cargo-fuzz and a nightly toolchain (`cargo install cargo-fuzz --locked`).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

# AddressSanitizer by default, as cargo-fuzz has it; SANITIZER=none leaves it out.
sanitizer=${SANITIZER:-address}
cargo +nightly fuzz build --sanitizer "$sanitizer"
fuzz/seed.sh >/dev/null

mkdir -p fuzz/logs
passed=0
failed=0
for target in "${targets[@]}"; do
  log=fuzz/logs/$target.log
  start=$(date +%s)
  if cargo +nightly fuzz run --sanitizer "$sanitizer" "$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 \
    -dict=fuzz/dict/syncml.dict -print_final_stats=1 >"$log" 2>&1; then
    passed=$((passed + 1))
    verdict=ok
  else
    failed=$((failed + 1))
    verdict=FAILED
  fi
  # The last status line: executions, coverage (cov), features (ft), corpus size.
  status=$(grep -E '^#[0-9]+' "$log" | tail -n1 || true)
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || true)
  echo "$target: $verdict in $(($(date +%s) - start)) s, ${runs:-?} runs; $status"
  if [ $verdict = FAILED ]; then
    tail -n 60 "$log"
    echo "reproduce: cargo +nightly fuzz run $target fuzz/artifacts/$target/<file>"
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
