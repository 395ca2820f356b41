#!/usr/bin/env bash
# Makes `cargo build --features tch` (burn's libtorch backend) work in this checkout with no
# further action. torch-sys 0.22 is built against PyTorch 2.9.0 and cannot download libtorch
# itself here, so this script either installs PyTorch 2.9.0 from PyPI into a virtual environment
# (.venv/, or the directory $RUNNER_VENV names, which several checkouts can share; the wheel
# carries the C++ headers and shared libraries torch-sys needs) or takes the libtorch that
# $LIBTORCH names, and writes .cargo/config.toml, whose [env] section hands LIBTORCH to cargo
# when it runs in this directory. build.rs then embeds the library directory as an rpath, so the
# binaries run without LD_LIBRARY_PATH. Running it again is quick and changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd -P)

torch_version=2.9.0
config=.cargo/config.toml
marker="# Written by scripts/setup-libtorch.sh"

fail() {
    echo "setup-libtorch: $*" >&2
    exit 1
}

if [[ -n "${LIBTORCH:-}" ]]; then
    [[ -d $LIBTORCH ]] || fail "LIBTORCH=$LIBTORCH is not a directory"
    libtorch=$(cd "$LIBTORCH" && pwd -P)
    echo "using LIBTORCH from the environment: $libtorch"
    # A libtorch zip says its version in build-version; torch-sys refuses any but its own.
    if [[ -f $libtorch/build-version ]]; then
        found=$(<"$libtorch/build-version")
        [[ ${found%%+*} == "$torch_version" ]] ||
            fail "$libtorch is libtorch $found, torch-sys 0.22 needs $torch_version (unset LIBTORCH to install it into .venv/)"
    fi
else
    venv=${RUNNER_VENV:-.venv}
    python=$venv/bin/python
    if [[ ! -x $python ]]; then
        command -v python3 >/dev/null || fail "python3 not found; install Python 3 (with venv) or set LIBTORCH to a libtorch $torch_version directory"
        echo "creating the virtual environment $venv"
        mkdir -p "$(dirname "$venv")"
        python3 -m venv "$venv" || fail "python3 -m venv $venv failed (on Debian/Ubuntu: apt install python3-venv)"
    fi
    # Asks pip's metadata, not `import torch` (seconds with the CUDA build), so a rerun is quick.
    installed=$("$python" -c 'import importlib.metadata as m; print(m.version("torch"))' 2>/dev/null || true)
    if [[ ${installed%%+*} == "$torch_version" ]]; then
        echo "PyTorch $installed is already in $venv"
    else
        echo "installing PyTorch $torch_version from PyPI into $venv (the CUDA build: about 3 GB to download, 7 GB installed)"
        "$python" -m pip install --disable-pip-version-check "torch==$torch_version"
    fi
    libtorch=$("$python" -c 'import importlib.util, os; print(os.path.realpath(importlib.util.find_spec("torch").submodule_search_locations[0]))')
fi

[[ -f $libtorch/lib/libtorch_cpu.so || -f $libtorch/lib/libtorch_cpu.dylib ]] ||
    fail "$libtorch/lib has no libtorch_cpu library: not a libtorch directory"
[[ -d $libtorch/include/torch ]] || fail "$libtorch/include/torch is missing: not a libtorch directory"

# Inside the checkout the path is written relative to it, so that moving the checkout keeps it
# valid; cargo resolves `relative = true` against the directory that holds .cargo/.
case $libtorch in
    "$root"/*) value="{ value = \"${libtorch#"$root"/}\", relative = true }" ;;
    *\"* | *\\*) fail "cannot write the path $libtorch into TOML (it holds a quote or backslash)" ;;
    *) value="\"$libtorch\"" ;;
esac
wanted="$marker; run it again to refresh it.
# Cargo reads it when it runs in this directory: torch-sys (cargo feature \`tch\`) finds libtorch
# through LIBTORCH. A LIBTORCH set in the shell takes precedence.
[env]
LIBTORCH = $value"

if [[ -f $config ]] && [[ $(<"$config") == "$wanted" ]]; then
    echo "$root/$config is up to date: LIBTORCH = $libtorch"
else
    if [[ -f $config ]] && [[ $(head -n1 "$config") != "$marker"* ]]; then
        fail "$root/$config exists and was not written by this script; add to it:
[env]
LIBTORCH = $value"
    fi
    mkdir -p .cargo
    printf '%s\n' "$wanted" >"$config"
    echo "wrote $root/$config: LIBTORCH = $libtorch"
fi

cat <<DONE
libtorch is set up. From $root:
    cargo run --release --features tch -- experiments/sweep.rhai --set device=libtorch
    OMP_NUM_THREADS=1 cargo test --workspace --features tch
DONE
