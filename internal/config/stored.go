package config

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/koha-webhooks/koha-webhooks/internal/kohacrypt"
)

// Where the Perl "Webhook Notifications" plugin keeps its settings in Koha's
// database. koha-webhooks reads and writes the same places, so a site that
// moves from the plugin keeps its settings, and the plugin reads what
// `koha-webhooks config set` stores.
const (
	// CredentialsPreference is the system preference that contains the
	// credentials: lower-case hex of a Koha::Encryption ciphertext of a
	// JSON object with the fields CredentialFields.
	CredentialsPreference = "WebhookCredentials"
	// PluginClass is the plugin_data.plugin_class of the plugin's other
	// settings.
	PluginClass = "Koha::Plugin::Com::ByWaterSolutions::WebhookNotifications"
)

// CredentialFields are the fields of the WebhookCredentials JSON object, in
// the order the plugin writes them.
var CredentialFields = []string{"auth_url", "client_id", "client_secret", "notice_url", "customer_id"}

// Stored holds the settings read from Koha's database.
type Stored struct {
	// Credentials are the decrypted fields of WebhookCredentials. It is
	// nil when the preference is unset or was not decrypted (see Skipped).
	Credentials map[string]string
	// Skipped is true when WebhookCredentials is set but was not decrypted,
	// because flags or environment variables set every credential.
	Skipped bool
	// PluginData are the plugin_data values of PluginClass by key.
	PluginData map[string]string
}

// StoredLayer returns the database layer. Empty values count as unset, as
// they do in the environment, so that an empty stored field does not hide
// a value in koha-conf.xml.
func StoredLayer(stored *Stored) Layer {
	return Layer{Source: SourceDatabase, Lookup: func(s *Spec) (string, bool) {
		if stored == nil {
			return "", false
		}
		if s.Credential != "" {
			if v := stored.Credentials[s.Credential]; v != "" {
				return v, true
			}
		}
		if s.PluginData != "" {
			if v := stored.PluginData[s.PluginData]; v != "" {
				return v, true
			}
		}
		return "", false
	}}
}

// CredentialsError reports a WebhookCredentials preference that cannot be
// read. It never contains the key or any decrypted text.
type CredentialsError struct {
	Reason string
	Err    error
}

func (e *CredentialsError) Error() string {
	message := "system preference " + CredentialsPreference + " " + e.Reason
	if e.Err != nil {
		message += ": " + e.Err.Error()
	}
	return message
}

func (e *CredentialsError) Unwrap() error { return e.Err }

// readPluginData returns the plugin_data values of PluginClass.
func readPluginData(ctx context.Context, db *sql.DB) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT plugin_key, COALESCE(plugin_value, '') FROM plugin_data WHERE plugin_class = ?`, PluginClass)
	if err != nil {
		return nil, fmt.Errorf("read plugin_data of %s: %w", PluginClass, err)
	}
	defer rows.Close()
	data := map[string]string{}
	for rows.Next() {
		var key, value string
		if err := rows.Scan(&key, &value); err != nil {
			return nil, fmt.Errorf("read plugin_data of %s: %w", PluginClass, err)
		}
		data[key] = value
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read plugin_data of %s: %w", PluginClass, err)
	}
	return data, nil
}

// querier is the part of *sql.DB and *sql.Tx that the readers use.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// readCredentialsText returns the stored WebhookCredentials value, "" when
// the preference does not exist or is empty. forUpdate locks the row.
func readCredentialsText(ctx context.Context, q querier, forUpdate bool) (string, error) {
	query := `SELECT COALESCE(value, '') FROM systempreferences WHERE variable = ?`
	if forUpdate {
		query += ` FOR UPDATE`
	}
	var value string
	err := q.QueryRowContext(ctx, query, CredentialsPreference).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read system preference %s: %w", CredentialsPreference, err)
	}
	return strings.TrimSpace(value), nil
}

// credentialsObject is the decrypted WebhookCredentials object. Fields that
// koha-webhooks does not know are kept as they are when it is written back.
type credentialsObject map[string]json.RawMessage

// decryptCredentials decrypts and parses a WebhookCredentials value.
func decryptCredentials(cipher *kohacrypt.Cipher, text, keySource string) (credentialsObject, error) {
	plaintext, err := cipher.DecryptHex(text)
	if err != nil {
		return nil, &CredentialsError{
			Reason: "cannot be decrypted with the encryption_key of " + keySource +
				" (a different key encrypted it: restore that key, or store the credentials again with \"koha-webhooks config set\")",
			Err: err,
		}
	}
	var object credentialsObject
	decoder := json.NewDecoder(bytes.NewReader(plaintext))
	if err := decoder.Decode(&object); err != nil || object == nil {
		// The JSON error could quote decrypted text, so it is not shown. A
		// wrong key passes the padding check about once in 256 tries and
		// ends here.
		return nil, &CredentialsError{Reason: "does not decrypt to a JSON object with the encryption_key of " + keySource +
			" (most likely a different key encrypted it: restore that key, or store the credentials again with \"koha-webhooks config set\")"}
	}
	return object, nil
}

// fields returns the known fields as text: JSON strings unquoted, numbers as
// written, null and absent fields left out.
func (o credentialsObject) fields() (map[string]string, error) {
	out := map[string]string{}
	for _, field := range CredentialFields {
		raw, ok := o[field]
		if !ok {
			continue
		}
		trimmed := bytes.TrimSpace(raw)
		switch {
		case bytes.Equal(trimmed, []byte("null")):
		case len(trimmed) > 0 && trimmed[0] == '"':
			var text string
			if err := json.Unmarshal(trimmed, &text); err != nil {
				return nil, &CredentialsError{Reason: "has an invalid " + field + " field"}
			}
			out[field] = text
		case len(trimmed) > 0 && (trimmed[0] == '-' || (trimmed[0] >= '0' && trimmed[0] <= '9')):
			out[field] = string(trimmed)
		default:
			return nil, &CredentialsError{Reason: "has a " + field + " field that is neither text nor a number; store it again with \"koha-webhooks config set " + field + "=...\""}
		}
	}
	return out, nil
}
