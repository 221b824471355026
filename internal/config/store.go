package config

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/koha-webhooks/koha-webhooks/internal/kohaconf"
	"github.com/koha-webhooks/koha-webhooks/internal/kohacrypt"
	"github.com/koha-webhooks/koha-webhooks/internal/payload"
)

// credentialsExplanation is the systempreferences.explanation of a
// WebhookCredentials row that koha-webhooks creates.
const credentialsExplanation = "Notice service credentials of koha-webhooks and the Webhook Notifications plugin, encrypted with the encryption_key of koha-conf.xml"

// SpecByName returns the setting called name, or nil.
func SpecByName(name string) *Spec {
	for i := range Specs {
		if Specs[i].Name == name {
			return &Specs[i]
		}
	}
	return nil
}

// StorableNames lists the settings that can be stored in Koha's database.
func StorableNames() []string {
	var names []string
	for _, spec := range Specs {
		if spec.Credential != "" || spec.PluginData != "" {
			names = append(names, spec.Name)
		}
	}
	return names
}

// ParseStored validates a value for storing in Koha's database and returns
// the text to store. A value that IsMask is returned unchanged, because the
// writers treat it as "keep the stored secret". An empty value clears the
// stored one, so that the next source applies.
func ParseStored(name, value string) (*Spec, string, error) {
	spec := SpecByName(name)
	if spec == nil || (spec.Credential == "" && spec.PluginData == "") {
		return nil, "", fmt.Errorf("setting %q cannot be stored in Koha; the settings that can are %s", name, strings.Join(StorableNames(), ", "))
	}
	if spec.Secret && IsMask(value) {
		return spec, value, nil
	}
	if !spec.Secret {
		value = strings.TrimSpace(value)
	}
	if value == "" {
		return spec, "", nil
	}
	invalid := func(reason string) error {
		return fmt.Errorf("invalid value for %s (%q): %s", name, value, reason)
	}
	switch name {
	case "auth_url", "notice_url":
		if err := checkURL(value); err != nil {
			return nil, "", invalid(err.Error())
		}
	case "payload_format":
		format, err := payload.ParseFormat(value)
		if err != nil {
			return nil, "", invalid("use full or minimal")
		}
		value = string(format)
	case "json_values":
		value = strings.ToLower(value)
		if value != "typed" && value != "strings" {
			return nil, "", invalid("use typed or strings")
		}
	case "skip_overdue_calls":
		on, err := parseBool(value)
		if err != nil {
			return nil, "", invalid("use 0 or 1")
		}
		value = map[bool]string{false: "0", true: "1"}[on]
	case "archive_path":
		if !filepath.IsAbs(value) {
			return nil, "", invalid("use an absolute directory path")
		}
	}
	return spec, value, nil
}

// SaveCredentials merges updates (by WebhookCredentials field) into the
// stored preference and writes it back encrypted with cipher, in one
// transaction that locks the row. Fields it does not update, including any
// that only the Perl plugin uses, keep their values. A value that IsMask
// keeps the stored one. It returns the fields that changed; when none did,
// nothing is written.
func SaveCredentials(ctx context.Context, db *sql.DB, cipher *kohacrypt.Cipher, keySource string, updates map[string]string) ([]string, error) {
	return updateCredentials(ctx, db, cipher, keySource, func(current map[string]string) map[string]string {
		changes := map[string]string{}
		for field, value := range updates {
			if !IsMask(value) && current[field] != value {
				changes[field] = value
			}
		}
		return changes
	})
}

// MigrationResult lists what MigrateCredentials did with each webhook_*
// credential of koha-conf.xml.
type MigrationResult struct {
	// Copied fields were missing from WebhookCredentials and were stored.
	Copied []string
	// Same fields were already stored with the same value.
	Same []string
	// Kept fields were stored with another value, which was kept because
	// the stored settings outrank koha-conf.xml.
	Kept []string
}

// MigrateCredentials copies the plain-text webhook_* credentials of
// koha-conf.xml into WebhookCredentials, filling only fields that are not
// stored yet. Running it again changes nothing.
func MigrateCredentials(ctx context.Context, db *sql.DB, cipher *kohacrypt.Cipher, keySource string, conf *kohaconf.Config) (*MigrationResult, error) {
	plain := map[string]string{}
	for _, spec := range Specs {
		if spec.Credential == "" || spec.KohaConf == "" {
			continue
		}
		if v, ok := conf.Setting(spec.KohaConf); ok && v != "" {
			plain[spec.Credential] = v
		}
	}
	result := &MigrationResult{}
	if len(plain) == 0 {
		return result, nil
	}
	_, err := updateCredentials(ctx, db, cipher, keySource, func(current map[string]string) map[string]string {
		changes := map[string]string{}
		for _, field := range CredentialFields {
			value, ok := plain[field]
			switch {
			case !ok:
			case current[field] == "":
				changes[field] = value
				result.Copied = append(result.Copied, field)
			case current[field] == value:
				result.Same = append(result.Same, field)
			default:
				result.Kept = append(result.Kept, field)
			}
		}
		return changes
	})
	if err != nil {
		return nil, err
	}
	return result, nil
}

// updateCredentials reads WebhookCredentials under a row lock, calls decide
// for the changes and writes the result back encrypted.
func updateCredentials(ctx context.Context, db *sql.DB, cipher *kohacrypt.Cipher, keySource string,
	decide func(current map[string]string) map[string]string) ([]string, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store system preference %s: %w", CredentialsPreference, err)
	}
	defer tx.Rollback()

	text, err := readCredentialsText(ctx, tx, true)
	if err != nil {
		return nil, err
	}
	object := credentialsObject{}
	if text != "" {
		if object, err = decryptCredentials(cipher, text, keySource); err != nil {
			return nil, err
		}
	}
	current, err := object.fields()
	if err != nil {
		return nil, err
	}
	changes := decide(current)
	if len(changes) == 0 {
		return nil, nil
	}

	var changed []string
	for _, field := range CredentialFields {
		if value, ok := changes[field]; ok {
			object[field] = jsonString(value)
			changed = append(changed, field)
		} else if _, ok := object[field]; !ok {
			// The plugin writes every field; an absent one is stored empty.
			object[field] = jsonString("")
		}
	}
	if err := writeCredentials(ctx, tx, cipher, object); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store system preference %s: %w", CredentialsPreference, err)
	}
	return changed, nil
}

func writeCredentials(ctx context.Context, tx *sql.Tx, cipher *kohacrypt.Cipher, object credentialsObject) error {
	var plaintext bytes.Buffer
	encoder := json.NewEncoder(&plaintext)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(object); err != nil {
		return fmt.Errorf("encode %s: %w", CredentialsPreference, err)
	}
	ciphertext, err := cipher.EncryptHex(bytes.TrimSpace(plaintext.Bytes()))
	if err != nil {
		return fmt.Errorf("encrypt %s: %w", CredentialsPreference, err)
	}
	// Koha's set_preference creates a missing preference the same way; an
	// existing row keeps its explanation and type.
	_, err = tx.ExecContext(ctx, `INSERT INTO systempreferences (variable, value, explanation, type) VALUES (?, ?, ?, 'Free')
		ON DUPLICATE KEY UPDATE value = VALUES(value)`, CredentialsPreference, ciphertext, credentialsExplanation)
	if err != nil {
		return fmt.Errorf("store system preference %s: %w", CredentialsPreference, err)
	}
	return nil
}

func jsonString(s string) json.RawMessage {
	encoded, _ := json.Marshal(s)
	return encoded
}

// SavePluginData stores values (by plugin_data key) for PluginClass with
// REPLACE INTO, as Koha's store_data does, in one transaction.
func SavePluginData(ctx context.Context, db *sql.DB, values map[string]string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store plugin_data: %w", err)
	}
	defer tx.Rollback()
	keys := make([]string, 0, len(values))
	for key := range values {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	for _, key := range keys {
		if _, err := tx.ExecContext(ctx, `REPLACE INTO plugin_data (plugin_class, plugin_key, plugin_value) VALUES (?, ?, ?)`,
			PluginClass, key, values[key]); err != nil {
			return fmt.Errorf("store plugin_data %s: %w", key, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store plugin_data: %w", err)
	}
	return nil
}

// checkURL accepts an absolute http or https URL with a host.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("use an absolute http or https URL")
	}
	return nil
}
