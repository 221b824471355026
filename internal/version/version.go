// Package version holds the release version of koha-webhooks.
package version

// Version is the release version, sent in the User-Agent header and written
// into archive files. Release builds set it with
//
//	go build -ldflags "-X github.com/koha-webhooks/koha-webhooks/internal/version.Version=1.2.3"
var Version = "0.1.0"
