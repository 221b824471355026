// Package notice decides whether a Koha message_queue row is a webhook notice
// and extracts the record ids that its rendered content names.
//
// A webhook notice is YAML-like text such as
//
//	---
//	webhook: yes
//	patron: 51
//	checkouts: 70083, 70084
//
// Its first line with content must be "---" (or a longer dash line) or a
// webhook key, and a top-level webhook key must be "yes" or "true" in any
// letter case, quoted or not. The trigger and the ids are read as text, never
// through a YAML 1.1 resolver, so "0012345" is the id 12345.
//
// Content rendered by real templates is read as well:
//
//   - CRLF and CR line endings, byte-order marks anywhere (such as at the start
//     of an appended fragment), non-breaking and other Unicode spaces, and tab
//     indentation;
//   - HTML notices (content type text/html, or content starting with a tag):
//     block tags and <br> become line breaks, other tags are removed and
//     entities decoded;
//   - several "---" documents, from incremental notices that Koha appends to,
//     with all triggered documents merged into one Notice;
//   - digest separators of four or more dashes, also when glued to the end of
//     the previous line ("70083----"), and document markers glued the same way
//     ("70083---");
//   - bare id lines under a key without a value, or after a list key's first
//     id ("checkouts: 70085" then "70086,");
//   - orphan id lines outside any key, attached to a list key that the notice
//     declares, or else to the list key that the letter code implies
//     (HOLDDGST → holds, CHECKIN → old_checkouts, DUEDGST → checkouts, ...);
//   - full-line "#" comments whose text wraps onto following lines, even with
//     colons, up to the next blank line, dash line, known key or id line
//     ending in a comma, and inline comments after an id;
//   - comma-separated ids with spaces, empty fields and trailing commas, block
//     sequences ("- 70083") and flow sequences ("[70083, 70084]");
//   - duplicate keys, whose values are all kept;
//   - keys this package does not know, whatever their values, which are
//     ignored.
//
// Only ASCII digits make an id. Other values (such as "70115abc" or a Perl
// object printed as "Koha::Old::Checkout=HASH(0x55d0c2a8)") are reported in
// Notice.Rejected, and a notice with rejected values but no valid id is a
// ParseError.
package notice
