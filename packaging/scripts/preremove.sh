#!/bin/sh
# Stops the service before its files are removed.
set -e

if [ "$1" = "remove" ] && [ -d /run/systemd/system ]; then
	systemctl stop koha-webhooks.service >/dev/null 2>&1 || true
	systemctl disable koha-webhooks.service >/dev/null 2>&1 || true
fi
exit 0
