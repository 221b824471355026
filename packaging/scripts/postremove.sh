#!/bin/sh
# Forgets the removed unit. On purge, also removes the archive; the
# koha-webhooks user is kept, as Debian's policy advises for system users.
set -e

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
if [ "$1" = "purge" ]; then
	rm -rf /var/lib/koha-webhooks
fi
exit 0
