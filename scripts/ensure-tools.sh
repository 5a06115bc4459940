#!/bin/sh
# Make sure the system tools bngraph needs are on PATH, installing them with
# apt-get when running as root; otherwise say in one line what to install.
# Usage: scripts/ensure-tools.sh TOOL...   (TOOL: dot, chromium, chromedriver)
set -eu

package_for() {
    case "$1" in
        dot) echo graphviz ;;
        chromium) echo chromium ;;
        chromedriver) echo chromium-driver ;;
        *) echo "ensure-tools: unknown tool '$1'" >&2; exit 2 ;;
    esac
}

missing=""
for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $(package_for "$tool")"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing system packages:$missing (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086 # one word per package
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    exit 0
fi
echo "Missing system packages:$missing. Install them, e.g. 'sudo apt-get install$missing', then run make again." >&2
exit 1
