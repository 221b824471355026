#!/bin/sh
# Creates the koha-webhooks system user, lets it read the koha-conf.xml of
# every Koha instance present, and makes the settings file readable by it.
set -e

if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ -z "$1" ]; then
	if ! getent passwd koha-webhooks >/dev/null; then
		adduser --system --group --quiet --home /var/lib/koha-webhooks --no-create-home \
			--gecos "koha-webhooks daemon" koha-webhooks
	fi
	# Koha's Debian packages make each koha-conf.xml readable by the group
	# <instance>-koha.
	if [ -d /etc/koha/sites ]; then
		for dir in /etc/koha/sites/*/; do
			instance=$(basename "$dir")
			if [ -f "$dir/koha-conf.xml" ] && getent group "$instance-koha" >/dev/null; then
				adduser --quiet koha-webhooks "$instance-koha"
			fi
		done
	fi
	if [ -f /etc/koha-webhooks/koha-webhooks.env ]; then
		chown root:koha-webhooks /etc/koha-webhooks/koha-webhooks.env
		chmod 0640 /etc/koha-webhooks/koha-webhooks.env
	fi
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload >/dev/null || true
		# The service is not enabled here: it needs the settings in
		# /etc/koha-webhooks/koha-webhooks.env first. A running service
		# is restarted to load the new binary.
		if systemctl is-active --quiet koha-webhooks.service; then
			systemctl restart koha-webhooks.service || true
		fi
	fi
fi
exit 0
