#!/usr/bin/env bash
# Fuzz the config resolver, the script entry point and plugin descriptor parsing (the targets
# in tests/fuzz/): replay the committed seeds and regressions of each target, then fuzz each for
# SECONDS (the first argument, else FUZZ_SECONDS, else 60), one after the other.
#
#   scripts/fuzz.sh          # a minute each
#   scripts/fuzz.sh 600      # ten minutes each
#   scripts/fuzz.sh 0        # only replay the seeds and regressions
#   FUZZ_TARGETS="descriptor" scripts/fuzz.sh 300
#
# What the fuzzer finds goes to tests/fuzz/corpus/<target>/ (inputs that reach new code) and
# tests/fuzz/artifacts/<target>/ (crashes), neither of them committed. A crash, once fixed,
# is committed to tests/fuzz/regressions/<target>/, which every run replays first.
#
# The targets build with cargo-fuzz (installed here if missing) and a nightly toolchain where
# there is one; where there is none, with the stable one, whose sanitizer and coverage flags
# are nightly-only (RUSTC_BOOTSTRAP). Every target runs under AddressSanitizer with overflow
# checks and debug assertions on: one build serves all three, and the descriptor target, which
# follows raw pointers, needs the sanitizer. The build lives outside the clone, in
# FUZZ_TARGET_DIR (default ~/.cache/runner-fuzz-target), so that later runs reuse it; not in
# CARGO_TARGET_DIR, which other builds use with other flags.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-${FUZZ_SECONDS:-60}}"
targets="${FUZZ_TARGETS:-config script descriptor}"
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/runner-fuzz-target}"

if rustup run nightly rustc --version >/dev/null 2>&1; then
    cargo=(cargo +nightly)
else
    echo "fuzz: no nightly toolchain; building with the stable one and RUSTC_BOOTSTRAP=1" >&2
    cargo=(cargo)
    export RUSTC_BOOTSTRAP=1
fi
if ! "${cargo[@]}" fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# The same flags for the build and every run, so that a run rebuilds nothing.
flags=(--fuzz-dir tests/fuzz --debug-assertions)
"${cargo[@]}" fuzz build "${flags[@]}"

for target in $targets; do
    seeds="tests/fuzz/seeds/$target"
    regressions="tests/fuzz/regressions/$target"
    corpus="tests/fuzz/corpus/$target"
    mkdir -p "$corpus" "$regressions"
    # Each seed and regression once, one by one: a crash names its file and fails the script.
    mapfile -t inputs < <(find "$seeds" "$regressions" -type f ! -name '.*' | sort)
    echo "fuzz $target: replaying ${#inputs[@]} seeds and regressions"
    log="$(mktemp)"
    if [ "${#inputs[@]}" -gt 0 ] &&
        ! "$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release/$target" -close_fd_mask=1 "${inputs[@]}" >"$log" 2>&1; then
        cat "$log"
        echo "fuzz $target: an input above fails" >&2
        exit 1
    fi
    rm -f "$log"
    if [ "$seconds" -gt 0 ]; then
        echo "fuzz $target: $seconds s"
        # The dry runs of the script target print every trial's config: stdout is closed.
        # A run slower than 10 s is reported as a hang.
        "${cargo[@]}" fuzz run "${flags[@]}" "$target" "$corpus" "$seeds" "$regressions" -- \
            -max_total_time="$seconds" -timeout=10 -close_fd_mask=1 -print_final_stats=1
    fi
done
