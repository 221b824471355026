package kohaconf

import (
	"errors"
	"fmt"
	"io/fs"
)

// Sentinel errors wrapped by SettingError, for use with errors.Is.
var (
	// ErrNoConfigElement means the file has no <config> element under its root.
	ErrNoConfigElement = errors.New("no <config> element under the root element")
	// ErrMissingSetting means a required setting is absent or empty.
	ErrMissingSetting = errors.New("setting is missing")
	// ErrPlaceholderSetting means a setting still contains the template placeholder.
	ErrPlaceholderSetting = errors.New("setting is still a template placeholder")
	// ErrInvalidSetting means a setting has a value that cannot be used.
	ErrInvalidSetting = errors.New("setting is invalid")
)

// locateHint is the advice for pointing the program at the right file.
const locateHint = "set the path with --koha-conf or KOHA_CONF, or the Koha instance name with --instance"

// FileError reports a koha-conf.xml that cannot be read.
type FileError struct {
	Path string
	Err  error
}

// Error names the path, the cause and what to do.
func (e *FileError) Error() string {
	switch {
	case errors.Is(e.Err, fs.ErrNotExist):
		return fmt.Sprintf("kohaconf: koha-conf.xml not found at %s (%s)", e.Path, locateHint)
	case errors.Is(e.Err, fs.ErrPermission):
		return fmt.Sprintf("kohaconf: permission denied reading %s (run as the Koha instance user, "+
			"for example through koha-shell, or %s)", e.Path, locateHint)
	default:
		return fmt.Sprintf("kohaconf: reading %s failed: %v (%s)", e.Path, e.Err, locateHint)
	}
}

// Unwrap returns the underlying file system error.
func (e *FileError) Unwrap() error { return e.Err }

// SyntaxError reports a koha-conf.xml that is not well-formed XML.
type SyntaxError struct {
	Path string
	Line int
	// Message describes the XML error without the line number.
	Message string
}

// Error names the file, the line and the XML error.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("kohaconf: invalid XML in %s on line %d: %s (Koha cannot read this file either; fix it)",
		e.Path, e.Line, e.Message)
}

// SettingError reports a setting that is missing or cannot be used. It never
// contains the value of <pass> or <encryption_key>.
type SettingError struct {
	Path string
	// Setting is the element name under <config>, such as "port".
	Setting string
	// Reason describes the problem and the fix.
	Reason string
	// Err is one of the sentinel errors of this package or a file system
	// or TLS error.
	Err error
}

// Error names the file, the setting and the reason.
func (e *SettingError) Error() string {
	message := fmt.Sprintf("kohaconf: <%s> in %s: %s", e.Setting, e.Path, e.Reason)
	if e.Err != nil && !isSentinel(e.Err) {
		message += ": " + e.Err.Error()
	}

	return message
}

// Unwrap returns Err.
func (e *SettingError) Unwrap() error { return e.Err }

func isSentinel(err error) bool {
	switch err {
	case ErrNoConfigElement, ErrMissingSetting, ErrPlaceholderSetting, ErrInvalidSetting:
		return true
	}

	return false
}
