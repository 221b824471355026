package notice

import "strings"

// Canonical key names, as used in RejectedID.Key and Notice.EmptyKeys. The
// singular list keys (checkout, old_checkout, hold, old_hold) map to the
// plural names.
const (
	KeyPatron       = "patron"
	KeyBiblio       = "biblio"
	KeyBiblioitem   = "biblioitem"
	KeyItem         = "item"
	KeyLibrary      = "library"
	KeyCheckouts    = "checkouts"
	KeyOldCheckouts = "old_checkouts"
	KeyHolds        = "holds"
	KeyOldHolds     = "old_holds"
)

// keyWebhook is the trigger key. It is not a record key.
const keyWebhook = "webhook"

// maxKeyLen is the length of the longest known key, "old_checkouts".
const maxKeyLen = len("old_checkouts")

// lookupKey returns the canonical name of a known key written in any letter
// case, keyWebhook for the trigger, or "" for a key this package ignores.
func lookupKey(name string) string {
	if len(name) < len("item") || len(name) > maxKeyLen {
		return ""
	}
	var buf [maxKeyLen]byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(name)]) {
	case "webhook":
		return keyWebhook
	case "patron":
		return KeyPatron
	case "biblio":
		return KeyBiblio
	case "biblioitem":
		return KeyBiblioitem
	case "item":
		return KeyItem
	case "library":
		return KeyLibrary
	case "checkout", "checkouts":
		return KeyCheckouts
	case "old_checkout", "old_checkouts":
		return KeyOldCheckouts
	case "hold", "holds":
		return KeyHolds
	case "old_hold", "old_holds":
		return KeyOldHolds
	}
	return ""
}

// isListKey reports whether key (canonical) names a list of checkouts or holds,
// the keys that accept bare id lines and orphan id segments.
func isListKey(key string) bool {
	switch key {
	case KeyCheckouts, KeyOldCheckouts, KeyHolds, KeyOldHolds:
		return true
	}
	return false
}

// listKeyForLetterCode returns the list key that ids without a key belong to
// in a notice with the given Koha letter code, or "" when the code implies
// none. Digest and incremental notices are the ones Koha builds from several
// records: holds for HOLDDGST and HOLD_REMINDER, returned loans for CHECKIN,
// current loans for checkout, renewal, due, predue, automatic renewal and
// overdue (ODUE, ODUE2, ODUE3 and local ODUE_* codes) letters.
func listKeyForLetterCode(letterCode string) string {
	code := strings.ToUpper(strings.TrimSpace(letterCode))
	switch code {
	case "HOLDDGST", "HOLD_REMINDER":
		return KeyHolds
	case "CHECKIN":
		return KeyOldCheckouts
	case "CHECKOUT", "RENEWAL", "DUE", "DUEDGST", "PREDUE", "PREDUEDGST":
		return KeyCheckouts
	}
	if strings.HasPrefix(code, "AUTO_RENEWALS") || strings.HasPrefix(code, "ODUE") {
		return KeyCheckouts
	}
	return ""
}
