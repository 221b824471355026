package inbound

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Message statuses a receiver can report, and the failure_code written
// when it reports a failure.
const (
	statusSent            = "sent"
	statusFailed          = "failed"
	receiverFailedCode    = "WEBHOOK_RECEIVER_FAILED"
	maxReasonRunes        = 500
	maxForwardedForLength = 255
	maxRemoteAddrLength   = 64
)

// report is one status or content report from a receiver.
type report struct {
	messageID int64
	route     string  // "status" or "content"
	status    string  // statusSent or statusFailed; empty on the content route
	subject   *string // nil when not given
	content   *string // nil when not given
	reason    string  // failure reason from the receiver, only with statusFailed
}

// handleStatus serves POST …/message/{message_id}/status.
func (a *API) handleStatus(w http.ResponseWriter, r *http.Request, c caller) {
	rep, err := parseStatusReport(r.PathValue("message_id"), r.URL.Query())
	if err != nil {
		a.rejectReport(w, r, c, "status", err)
		return
	}
	a.serveReport(w, r, c, rep)
}

// handleContent serves POST …/message/{message_id}/content.
func (a *API) handleContent(w http.ResponseWriter, r *http.Request, c caller) {
	rep, err := parseContentReport(r.PathValue("message_id"), r.URL.Query())
	if err != nil {
		a.rejectReport(w, r, c, "content", err)
		return
	}
	a.serveReport(w, r, c, rep)
}

func parseStatusReport(rawID string, query url.Values) (report, error) {
	rep := report{route: "status", status: query.Get("status")}
	var err error
	if rep.messageID, err = parseMessageID(rawID); err != nil {
		return report{}, err
	}
	switch rep.status {
	case statusSent, statusFailed:
	case "":
		return report{}, badRequest("status is missing: add ?status=sent or ?status=failed")
	default:
		return report{}, badRequest(fmt.Sprintf("status %q is invalid: use sent or failed", rep.status))
	}
	if rep.subject, err = optionalText(query, "subject"); err != nil {
		return report{}, err
	}
	if rep.content, err = optionalText(query, "content"); err != nil {
		return report{}, err
	}
	rep.reason, err = parseReason(query.Get("reason"), rep.status)
	return rep, err
}

func parseContentReport(rawID string, query url.Values) (report, error) {
	rep := report{route: "content"}
	var err error
	if rep.messageID, err = parseMessageID(rawID); err != nil {
		return report{}, err
	}
	if rep.content, err = optionalText(query, "content"); err != nil {
		return report{}, err
	}
	if rep.content == nil {
		return report{}, badRequest("content is missing: add ?content=<the text the receiver sent>")
	}
	if rep.subject, err = optionalText(query, "subject"); err != nil {
		return report{}, err
	}
	return rep, nil
}

func parseMessageID(raw string) (int64, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, badRequest(fmt.Sprintf("message_id %q is invalid: it must be a positive integer", raw))
	}
	return id, nil
}

// optionalText returns the query parameter name, or nil when it is absent
// or empty. An empty value counts as absent, so a report cannot blank out a
// notice's subject or content.
func optionalText(query url.Values, name string) (*string, error) {
	value := query.Get(name)
	if value == "" {
		return nil, nil
	}
	if !utf8.ValidString(value) {
		return nil, badRequest(name + " is not valid UTF-8")
	}
	return &value, nil
}

// parseReason validates the optional reason of a failure, which becomes
// part of failure_code and is shown in Koha's staff interface.
func parseReason(reason, status string) (string, error) {
	if reason == "" {
		return "", nil
	}
	if status != statusFailed {
		return "", badRequest("reason is only accepted with status=failed")
	}
	if !utf8.ValidString(reason) || strings.IndexFunc(reason, unicode.IsControl) >= 0 {
		return "", badRequest("reason must be UTF-8 text without control characters such as line breaks")
	}
	if n := utf8.RuneCountInString(reason); n > maxReasonRunes {
		return "", badRequest(fmt.Sprintf("reason has %d characters; the maximum is %d", n, maxReasonRunes))
	}
	return reason, nil
}

// serveReport applies rep and writes the response: 204 when it was applied
// or changed nothing, otherwise the error.
func (a *API) serveReport(w http.ResponseWriter, r *http.Request, c caller, rep report) {
	origin := requestOrigin{
		caller:       c,
		remoteAddr:   remoteHost(r.RemoteAddr),
		forwardedFor: truncate(strings.Join(r.Header.Values("X-Forwarded-For"), ", "), maxForwardedForLength),
	}
	ch, err := a.applyReport(r.Context(), rep, origin)
	var rejected *requestError
	switch {
	case errors.As(err, &rejected):
		a.rejectReport(w, r, c, rep.route, rejected)
		return
	case err != nil:
		a.log.Error("inbound API could not apply a report", "message_id", rep.messageID, "route", rep.route, "caller", c.String(), "error", err)
		writeError(w, http.StatusInternalServerError, internalErrorMessage)
		return
	}
	if ch.empty() {
		a.log.Debug("inbound API report changed nothing", "message_id", rep.messageID, "route", rep.route, "caller", c.String())
	} else {
		a.log.Info("inbound API updated a notice", "message_id", rep.messageID, "route", rep.route, "caller", c.String(),
			"old_status", ch.oldStatus, "new_status", ch.newStatus, "subject_changed", ch.subject != nil, "content_changed", ch.content != nil)
	}
	w.WriteHeader(http.StatusNoContent)
}

// rejectReport logs a rejected report of an authenticated caller and sends
// the error, which is a *requestError.
func (a *API) rejectReport(w http.ResponseWriter, r *http.Request, c caller, route string, err error) {
	rejected := badRequest(err.Error())
	errors.As(err, &rejected)
	a.log.Info("inbound API rejected a report", "message_id", truncate(r.PathValue("message_id"), 32), "route", route, "caller", c.String(),
		"http_status", rejected.status, "reason", rejected.message)
	writeError(w, rejected.status, rejected.message)
}

// remoteHost returns the host part of an http.Request.RemoteAddr.
func remoteHost(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	return truncate(addr, maxRemoteAddrLength)
}

// truncate replaces invalid UTF-8 in s and cuts it to at most n bytes
// without splitting a character.
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
