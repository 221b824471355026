// Package payload builds the JSON document POSTed for one notice, in the
// full shape (the notice's rows) or the minimal shape (ids only), with
// column values typed by their SQL type or, for receivers written against
// the Perl plugin, every value as a string.
package payload
