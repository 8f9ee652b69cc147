#!/usr/bin/env bash
# Installs pyclick into ./.venv, editable: the command and the tests both
# run the code of this working tree.
#
#   scripts/setup.sh           the package and its run-time dependencies (no root)
#   scripts/setup.sh --test    also, as root, the Debian packages of the kernel
#                              path (bcc, kernel headers, iproute2, ethtool,
#                              bpftool and clang for compiled BPF objects,
#                              systemd-analyze) and the test dependencies
set -euo pipefail
cd "$(dirname "$0")/.."

with_test=false
case "${1:-}" in
  --test) with_test=true ;;
  "") ;;
  *) echo "usage: $0 [--test]" >&2; exit 2 ;;
esac

if $with_test; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "$0 --test installs Debian packages: run it as root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq python3-bpfcc linux-headers-amd64 iproute2 ethtool systemd \
    bpftool clang linux-libc-dev >/dev/null
fi

python3 -m venv --system-site-packages .venv
.venv/bin/python -m pip install -q --upgrade pip
if $with_test; then
  extras="test,metrics,plot"
else
  extras="metrics,plot"
fi
.venv/bin/python -m pip install -q --editable ".[$extras]"
