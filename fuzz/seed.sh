#!/usr/bin/env bash
# Seeds the fuzz corpora, fuzz/corpus/<target>/, from what dmsim itself sends and reads:
# - every scenario of scenarios/ run in both encodings with `dmsim run --capture`: the raw messages
#   for the XML and WBXML targets, and each captured session as one input of device_session (the
#   server's messages) and server_handle (the device's), in the form fuzz/src/lib.rs reads;
# - the scenario files themselves for scenario_load;
# - packages from `dmsim package`, good and with every defect, for package;
# - the hand-made seeds of fuzz/seeds/<target>/ (descriptor, pkg0, tnds: see fuzz/README.md);
# - tests/fixtures/syncml/ (messages as other implementations write them) for the codec targets.
# Files are named by their SHA-1, so running it again adds only what is new. Nothing is deleted:
# a corpus grows with each campaign, and this only adds the seeds back.
#
# SEED_PROFILE picks the cargo profile dmsim runs in (release by default; CI passes dev, which
# `cargo test` has built already).
set -euo pipefail
cd "$(dirname "$0")/.."

profile=${SEED_PROFILE:-release}
corpus=fuzz/corpus
capture=$(mktemp -d)
trap 'rm -rf "$capture"' EXIT

cargo build --quiet --profile "$profile" --bin dmsim
dir=$profile
[ "$profile" = dev ] && dir=debug
dmsim=target/$dir/dmsim

# Exit code 1 (a scenario failed) still leaves its messages; 2 is a real error.
"$dmsim" run scenarios/ --quiet --capture "$capture/xml" >/dev/null || [ $? -eq 1 ]
"$dmsim" run scenarios/ --quiet --encoding wbxml --capture "$capture/wbxml" >/dev/null || [ $? -eq 1 ]

# Copy stdin into corpus $1 under its SHA-1.
put() {
  local tmp
  tmp=$(mktemp)
  cat >"$tmp"
  mkdir -p "$corpus/$1"
  mv "$tmp" "$corpus/$1/$(sha1sum <"$tmp" | cut -c1-40)"
}

for f in "$capture"/*/*/*.xml tests/fixtures/syncml/*.xml; do
  put xml_decode <"$f"
  put xml_roundtrip <"$f"
done
for f in "$capture"/*/*/*.wbxml; do
  put wbxml_decode <"$f"
  put wbxml_roundtrip <"$f"
done

# The separator between the messages of one session input (dmsim_fuzz::SEPARATOR).
separator() { printf '\xff\xfeNEXT\xfe\xff'; }
# A selector byte and the files of one side of a captured session, as one input.
session_input() {
  local selector=$1 side=$2 scenario_dir=$3 first=1 f
  printf "\\x$(printf %02x "$selector")"
  for f in "$scenario_dir"/*-"$side".*; do
    [ -e "$f" ] || continue
    [ $first = 1 ] || separator
    first=0
    cat "$f"
  done
}

# The scenarios the session targets build their devices and servers from, in selector order.
mapfile -t session_scenarios < <(grep -o 'include_str!("../../scenarios/[^"]*")' fuzz/src/lib.rs |
  sed 's|include_str!("../../||; s|")$||')
for i in "${!session_scenarios[@]}"; do
  slug=$(echo "${session_scenarios[$i]%.toml}" | tr / -)
  for encoding in xml wbxml; do
    selector=$i
    [ $encoding = wbxml ] && selector=$((i | 8))
    session_input $selector server "$capture/$encoding/$slug" | put device_session
    session_input $selector device "$capture/$encoding/$slug" | put server_handle
  done
done
# Every other scenario's device messages go to the first scenario's server (a script, no auth).
for encoding in xml wbxml; do
  selector=0
  [ $encoding = wbxml ] && selector=8
  for scenario_dir in "$capture/$encoding"/*; do
    session_input $selector device "$scenario_dir" | put server_handle
  done
done

for f in $(find scenarios -name '*.toml'); do
  put scenario_load <"$f"
done

# Packages: the mode byte of the package target, then the package (fuzz_targets/package.rs).
pkg=$capture/pkg
"$dmsim" package --model SIM-1 --from FW-1.0.0 --to FW-1.1.0 --size 512 --out "$pkg" >/dev/null
{ printf '\x00'; cat "$pkg"; } | put package
for defect in corrupt truncated bad-magic wrong-model bad-signature tampered-header wrong-from-version; do
  "$dmsim" package --model SIM-1 --from FW-1.0.0 --to FW-1.1.0 --size 512 --defect $defect --out "$pkg" >/dev/null
  { printf '\x00'; cat "$pkg"; } | put package
  { printf '\x03'; cat "$pkg"; } | put package
done
delivery=(--delivery --pkg-id suite-1 --component maps:Maps:2.1:Android:300 --component agent:Agent:1.4:Linux:200 --out "$pkg")
"$dmsim" package "${delivery[@]}" >/dev/null
{ printf '\x00'; cat "$pkg"; } | put package
for defect in corrupt:2 truncated bad-magic too-many-components duplicate-id huge-length:1 bad-signature tampered-header unsupported-env:1; do
  "$dmsim" package "${delivery[@]}" --defect $defect >/dev/null
  { printf '\x00'; cat "$pkg"; } | put package
  { printf '\x03'; cat "$pkg"; } | put package
done

for target in fuzz/seeds/*/; do
  name=$(basename "$target")
  for f in "$target"*; do
    put "$name" <"$f"
  done
done

for target in "$corpus"/*/; do
  echo "$(basename "$target"): $(find "$target" -type f | wc -l) inputs, $(du -sh "$target" | cut -f1)"
done
