package inbound_test

import (
	"net/http"
	"testing"
)

func TestAuthentication(t *testing.T) {
	f := setup(t)
	id := f.delivered()

	f.staff("alice", "alice-pass", flagSuperlibrarian)
	f.staff("bob", "bob-pass", flagCatalogue)
	f.grantConfigure(f.staff("carol", "carol-pass", flagCatalogue))
	f.staff("dave", "dave-pass", flagCatalogue|flagPlugins)
	erin := f.staff("erin", "erin-pass", flagSuperlibrarian)
	f.exec(`UPDATE borrowers SET login_attempts = -1 WHERE borrowernumber = ?`, erin)
	frank := f.staff("frank", "frank-pass", flagSuperlibrarian)
	f.exec(`UPDATE borrowers SET password = '!' WHERE borrowernumber = ?`, frank)
	gina := f.staff("gina", "gina-pass", flagSuperlibrarian)
	f.exec(`UPDATE borrowers SET userid = NULL, cardnumber = 'CARD-0042' WHERE borrowernumber = ?`, gina)
	tool := f.staff("tess", "tess-pass", flagCatalogue)
	f.exec(`INSERT INTO user_permissions (borrowernumber, module_bit, code) VALUES (?, 19, 'tool')`, tool)

	tests := []struct {
		name          string
		authorization string
		want          int
	}{
		{"none", "", http.StatusUnauthorized},
		{"superlibrarian", basic("alice", "alice-pass"), http.StatusNoContent},
		{"wrong password", basic("alice", "not-her-pass"), http.StatusUnauthorized},
		{"unknown login", basic("nobody", "alice-pass"), http.StatusUnauthorized},
		{"empty login", basic("", "alice-pass"), http.StatusUnauthorized},
		{"malformed basic", "Basic %%%", http.StatusUnauthorized},
		{"no permission", basic("bob", "bob-pass"), http.StatusForbidden},
		{"user_permissions configure", basic("carol", "carol-pass"), http.StatusNoContent},
		{"user_permissions tool only", basic("tess", "tess-pass"), http.StatusForbidden},
		{"plugins module", basic("dave", "dave-pass"), http.StatusNoContent},
		{"administrative lock", basic("erin", "erin-pass"), http.StatusUnauthorized},
		{"password disabled", basic("frank", "!"), http.StatusUnauthorized},
		{"cardnumber login", basic("CARD-0042", "gina-pass"), http.StatusNoContent},
		{"static token", bearer(staticToken), http.StatusNoContent},
		{"static token lowercase scheme", "bearer " + staticToken, http.StatusNoContent},
		{"unknown bearer token", bearer("not-a-token"), http.StatusUnauthorized},
		{"empty bearer token", "Bearer ", http.StatusUnauthorized},
		{"unsupported scheme", "Digest username=alice", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A repeated "sent" report on a sent notice changes nothing, so
			// every case can use the same notice.
			resp := f.post(f.reportURL(id, "status", "status", "sent"), tt.authorization)
			if resp.StatusCode != tt.want {
				t.Fatalf("status code = %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == http.StatusNoContent {
				return
			}
			errorBody(t, resp)
			challenges := resp.Header.Values("WWW-Authenticate")
			if tt.want == http.StatusUnauthorized && (!contains(challenges, "Basic realm=") || !contains(challenges, "Bearer realm=")) {
				t.Errorf("WWW-Authenticate = %q, want Basic and Bearer challenges", challenges)
			}
			if tt.name == "unknown bearer token" && !contains(challenges, `error="invalid_token"`) {
				t.Errorf("WWW-Authenticate = %q, want error=\"invalid_token\"", challenges)
			}
			if tt.want == http.StatusForbidden && len(challenges) != 0 {
				t.Errorf("WWW-Authenticate = %q on 403, want none", challenges)
			}
		})
	}
	if audit := f.audit(id); len(audit) != 0 {
		t.Errorf("audit rows = %d, want 0 for repeated reports", len(audit))
	}
	f.checkLogsOmit("alice-pass", "not-her-pass", "bob-pass", "erin-pass", staticToken, "not-a-token")
}

func TestLoginAttempts(t *testing.T) {
	f := setup(t)
	id := f.delivered()
	f.exec(`INSERT INTO systempreferences (variable, value) VALUES ('FailedLoginAttempts', '3')`)

	nearly := f.staff("nora", "nora-pass", flagSuperlibrarian)
	f.exec(`UPDATE borrowers SET login_attempts = 2 WHERE borrowernumber = ?`, nearly)
	once := f.staff("otto", "otto-pass", flagSuperlibrarian)
	f.exec(`UPDATE borrowers SET login_attempts = 1 WHERE borrowernumber = ?`, once)
	locked := f.staff("lena", "lena-pass", flagSuperlibrarian)
	f.exec(`UPDATE borrowers SET login_attempts = -1 WHERE borrowernumber = ?`, locked)
	target := f.reportURL(id, "status", "status", "sent")

	if got := f.post(target, basic("nora", "wrong")).StatusCode; got != http.StatusUnauthorized {
		t.Errorf("wrong password: status code = %d, want 401", got)
	}
	if got := f.loginAttempts(nearly); got != 3 {
		t.Errorf("login_attempts after a wrong password = %d, want 3", got)
	}
	if got := f.post(target, basic("nora", "nora-pass")).StatusCode; got != http.StatusUnauthorized {
		t.Errorf("correct password after lockout: status code = %d, want 401", got)
	}

	if got := f.post(target, basic("otto", "otto-pass")).StatusCode; got != http.StatusNoContent {
		t.Errorf("correct password below the limit: status code = %d, want 204", got)
	}
	if got := f.loginAttempts(once); got != 0 {
		t.Errorf("login_attempts after a correct password = %d, want 0", got)
	}

	if got := f.post(target, basic("lena", "wrong")).StatusCode; got != http.StatusUnauthorized {
		t.Errorf("administrative lock: status code = %d, want 401", got)
	}
	if got := f.loginAttempts(locked); got != -1 {
		t.Errorf("login_attempts of an administrative lock = %d, want -1", got)
	}
}

func TestPermissionRevoked(t *testing.T) {
	f := setup(t)
	id := f.delivered()
	mia := f.staff("mia", "mia-pass", flagPlugins)
	target := f.reportURL(id, "status", "status", "sent")

	if got := f.post(target, basic("mia", "mia-pass")).StatusCode; got != http.StatusNoContent {
		t.Fatalf("with permission: status code = %d, want 204", got)
	}
	f.exec(`UPDATE borrowers SET flags = 0 WHERE borrowernumber = ?`, mia)
	if got := f.post(target, basic("mia", "mia-pass")).StatusCode; got != http.StatusForbidden {
		t.Errorf("after revoking: status code = %d, want 403", got)
	}
}
