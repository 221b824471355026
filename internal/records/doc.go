// Package records loads the Koha rows a batch of webhook notices names:
// patrons, checkouts, holds, items, biblios, biblioitems, item types and
// libraries. Loading is batched: a batch costs a fixed number of SELECT
// statements whatever the number of notices in it, because every table is
// read once with the ids of all notices (WHERE id IN (…)).
package records
