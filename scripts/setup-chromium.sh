#!/usr/bin/env bash
# Installs Debian's Chromium for the report's browser test (tests/it/browser.rs), which opens
# report.html in headless Chromium and drives it over the DevTools protocol. Quick when Chromium
# is already installed. Needs root for apt-get. Prints the browser's path and version.
set -euo pipefail

if ! command -v chromium >/dev/null; then
    [[ $(id -u) == 0 ]] || { echo "setup-chromium: must run as root to install chromium" >&2; exit 1; }
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
echo "setup-chromium: $(command -v chromium): $(chromium --version 2>/dev/null)"
