#!/usr/bin/env bash
# Installs the systemd unit conf/pyclick-rsspp.service, as root, after
# scripts/setup.sh:
#
#   scripts/install-service.sh            install, then systemctl daemon-reload
#   scripts/install-service.sh --root DIR install under DIR (a staging tree), reload nothing
#
# It links /usr/local/bin/pyclick, the command the unit runs, to this
# clone's .venv/bin/pyclick; copies the unit to /etc/systemd/system and
# conf/rsspp.click to /etc/pyclick; and writes /etc/default/pyclick-rsspp
# (PYCLICK_ARGS, the interface) unless it exists. The unit hides /home and
# /root from the service: for a clone there, a drop-in makes them
# read-only instead, so that the service can read its code.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
root=""
case "${1:-}" in
  --root) root=${2:?"--root needs a directory"} ;;
  "") ;;
  *) echo "usage: $0 [--root DIR]" >&2; exit 2 ;;
esac

command="$repo/.venv/bin/pyclick"
if [ ! -x "$command" ]; then
  echo "$0: $command is missing: run scripts/setup.sh first" >&2
  exit 1
fi
if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then
  echo "$0 writes under /etc and /usr/local: run it as root" >&2
  exit 1
fi

units="$root/etc/systemd/system"
install -d "$root/usr/local/bin" "$units" "$root/etc/pyclick" "$root/etc/default"
ln -sfn "$command" "$root/usr/local/bin/pyclick"
install -m 644 "$repo/conf/pyclick-rsspp.service" "$units/pyclick-rsspp.service"
install -m 644 "$repo/conf/rsspp.click" "$root/etc/pyclick/rsspp.click"
if [ ! -e "$root/etc/default/pyclick-rsspp" ]; then
  echo 'PYCLICK_ARGS=IF=eth0' > "$root/etc/default/pyclick-rsspp"
fi
case "$repo/" in
  /home/*|/root/*)
    install -d "$units/pyclick-rsspp.service.d"
    printf '[Service]\nProtectHome=read-only\n' > "$units/pyclick-rsspp.service.d/clone.conf" ;;
esac

if [ -z "$root" ]; then
  systemctl daemon-reload
  echo "installed; set the interface in /etc/default/pyclick-rsspp, then:"
  echo "  systemctl enable --now pyclick-rsspp"
fi
