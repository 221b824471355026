// Package queue selects webhook notices from Koha's message_queue, claims
// them with a lease so that concurrent passes never deliver the same notice
// twice, and writes each outcome back to message_queue.
//
// Claim state lives in the project's own table, koha_webhooks_deliveries,
// one row per notice: the claim owner and token, the lease expiry, the
// attempt count and schedule, the last HTTP status and error, and the
// delivery time. Koha's tables get no new columns.
//
// While a notice is claimed or waiting for a retry, its message_queue row
// is status 'deleted'. Koha's own sender ignores that status, and Koha does
// not restrict the patron for it. Only final failures use 'failed'.
package queue
