package inbound

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// kohaBcryptCost is the cost of the dummy hash. Koha writes "$2a$08$"
// hashes (cost 8), so an unknown login takes as long as a typical wrong
// password. Stored hashes of any cost are accepted.
const kohaBcryptCost = 8

// dummyHash is compared against when a login does not exist or its stored
// password is not usable, so that those cases take as long as a wrong
// password and do not reveal which logins exist.
var dummyHash = sync.OnceValue(func() []byte {
	hash, err := bcrypt.GenerateFromPassword([]byte("koha-webhooks dummy password"), kohaBcryptCost)
	if err != nil {
		panic("inbound: generate dummy bcrypt hash: " + err.Error())
	}
	return hash
})

// staffAccount is the borrowers row a Basic login names.
type staffAccount struct {
	borrowernumber int64
	password       sql.NullString
	loginAttempts  int64
	// maxAttempts is the FailedLoginAttempts system preference, NULL when
	// it is not set.
	maxAttempts sql.NullString
}

// locked reports whether the account is locked. It is when login_attempts
// is negative (an administrator's lock), or when FailedLoginAttempts is a
// positive number that login_attempts has reached.
func (s staffAccount) locked() bool {
	if s.loginAttempts < 0 {
		return true
	}
	limit, err := strconv.Atoi(strings.TrimSpace(s.maxAttempts.String))
	return err == nil && limit > 0 && s.loginAttempts >= int64(limit)
}

var errInvalidLogin = unauthorized("invalid Basic credentials: the login or the password is wrong")

// authenticateBasic checks HTTP Basic credentials against a Koha staff
// account and keeps borrowers.login_attempts up to date.
func (a *API) authenticateBasic(ctx context.Context, r *http.Request) (caller, error) {
	login, password, ok := r.BasicAuth()
	if !ok || login == "" {
		// Failure policy: fail closed because credentials that cannot be
		// decoded name no account.
		a.rejections.Record("basic", "malformed credentials")
		return caller{}, unauthorized("invalid Basic credentials: send base64 of <userid or cardnumber>:<password>")
	}
	account, found, err := a.lookupStaff(ctx, login)
	if err != nil {
		return caller{}, err
	}
	if !found {
		checkPassword(sql.NullString{}, password)
		// Failure policy: fail closed because the login names no patron.
		// The login is not logged here, because a login that names no
		// account is often a password typed into the wrong field.
		a.rejections.Record("basic", "unknown login")
		return caller{}, errInvalidLogin
	}
	if !checkPassword(account.password, password) {
		if err := a.countFailedLogin(ctx, account.borrowernumber); err != nil {
			return caller{}, err
		}
		// Failure policy: fail closed because the password does not match.
		a.rejections.Record("basic", "wrong password", "login", login)
		return caller{}, errInvalidLogin
	}
	if account.locked() {
		// Failure policy: fail closed because a locked account may not log
		// in, even with the right password.
		a.rejections.Record("basic", "account locked", "login", login, "borrowernumber", account.borrowernumber)
		return caller{}, unauthorized(fmt.Sprintf("account %q is locked after too many failed logins or by an administrator; a Koha administrator can unlock it", login))
	}
	if account.loginAttempts > 0 {
		if _, err := a.db.ExecContext(ctx, `UPDATE borrowers SET login_attempts = 0 WHERE borrowernumber = ? AND login_attempts > 0`, account.borrowernumber); err != nil {
			return caller{}, fmt.Errorf("reset login_attempts of borrower %d: %w", account.borrowernumber, err)
		}
	}
	return caller{kind: "staff", name: login, patron: account.borrowernumber}, nil
}

// lookupStaff finds the patron whose userid is login, or failing that whose
// cardnumber is login.
func (a *API) lookupStaff(ctx context.Context, login string) (staffAccount, bool, error) {
	for _, column := range []string{"userid", "cardnumber"} {
		var s staffAccount
		err := a.db.QueryRowContext(ctx, `SELECT borrowernumber, password, login_attempts,
			(SELECT value FROM systempreferences WHERE variable = 'FailedLoginAttempts')
			FROM borrowers WHERE `+column+` = ?`, login).Scan(&s.borrowernumber, &s.password, &s.loginAttempts, &s.maxAttempts)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return staffAccount{}, false, fmt.Errorf("look up staff login by %s: %w", column, err)
		}
		return s, true, nil
	}
	return staffAccount{}, false, nil
}

// countFailedLogin adds one to login_attempts unless an administrator
// locked the account (a negative value, which must stay negative).
func (a *API) countFailedLogin(ctx context.Context, borrowernumber int64) error {
	_, err := a.db.ExecContext(ctx, `UPDATE borrowers SET login_attempts = login_attempts + 1 WHERE borrowernumber = ? AND login_attempts >= 0`, borrowernumber)
	if err != nil {
		return fmt.Errorf("count failed login of borrower %d: %w", borrowernumber, err)
	}
	return nil
}

// checkPassword reports whether password matches a stored Koha password
// hash. Only bcrypt hashes ("$2a$", "$2b$" and so on, any cost) can match.
// NULL, Koha's "!" (login disabled) and legacy MD5 hashes never match.
func checkPassword(stored sql.NullString, password string) bool {
	if !stored.Valid || !strings.HasPrefix(stored.String, "$2") {
		// Failure policy: fail closed because the account has no usable
		// password. The dummy comparison keeps the response time equal.
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(stored.String), []byte(password)) == nil
}
