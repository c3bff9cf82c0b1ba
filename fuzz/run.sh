#!/usr/bin/env bash
# Runs the SDP round-trip fuzz target for SECONDS (default 60).
# Usage: fuzz/run.sh [SECONDS]   (from anywhere)
set -euo pipefail

SECONDS_TO_RUN="${1:-60}"
FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$FUZZ_DIR")"
TARGET=sdp_roundtrip
CORPUS="fuzz/corpus/$TARGET"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# Seed the corpus with the real SDP fixtures (libFuzzer dedups by coverage).
mkdir -p "$FUZZ_DIR/corpus/$TARGET"
for src in "fixtures:$FUZZ_DIR/../fixtures/sdp" "shared:$FUZZ_DIR/../../shared/fixtures/sdp"; do
    label="${src%%:*}" dir="${src#*:}"
    [ -d "$dir" ] || continue
    for f in "$dir"/*.sdp; do
        [ -e "$f" ] || continue
        cp -f "$f" "$FUZZ_DIR/corpus/$TARGET/seed-$label-$(basename "$f")"
    done
done

cd "$ROOT"
# No nightly toolchain here: RUSTC_BOOTSTRAP lets stable accept -Z flags.
export RUSTC_BOOTSTRAP=1
exec cargo fuzz run "$TARGET" "$CORPUS" -- -max_total_time="$SECONDS_TO_RUN" -max_len=16384
