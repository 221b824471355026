// Package kohadb opens connections to a Koha MariaDB database with the driver
// options koha-webhooks relies on, loads Koha's schema file into a database,
// and reads what the live schema and system preferences contain.
package kohadb
