package kohacrypt_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/koha-webhooks/koha-webhooks/internal/kohacrypt"
)

// vectorsEnv names the environment variable that overrides the path of the
// JSON file with values encrypted by Crypt::CBC.
const vectorsEnv = "KOHA_ENCRYPTION_VECTORS"

const defaultVectorsPath = "../../../shared/koha/encryption-vectors.json"

type vector struct {
	EncryptionKey string `json:"encryption_key"`
	Plaintext     string `json:"plaintext"`
	CiphertextHex string `json:"ciphertext_hex"`
}

func loadVectors(t *testing.T) []vector {
	t.Helper()

	path := os.Getenv(vectorsEnv)
	if path == "" {
		path = defaultVectorsPath
	}

	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("encryption vectors file %s not found; set %s to its path to run this test", path, vectorsEnv)
	}
	if err != nil {
		t.Fatalf("read vectors: %v", err)
	}

	var file struct {
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatalf("parse vectors %s: %v", path, err)
	}
	if len(file.Vectors) == 0 {
		t.Fatalf("vectors file %s contains no vectors", path)
	}

	return file.Vectors
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}

	return true
}

func mustNew(t *testing.T, key string) *kohacrypt.Cipher {
	t.Helper()

	c, err := kohacrypt.New(key)
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	return c
}

func TestDecryptVectors(t *testing.T) {
	t.Parallel()

	for i, v := range loadVectors(t) {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()

			// The vector with a non-ASCII key decrypts only with the key's
			// UTF-8 bytes, so the Perl script that made the vectors passed
			// keys as byte strings, and NewPassphrase matches that.
			c, err := kohacrypt.NewPassphrase([]byte(v.EncryptionKey))
			if err != nil {
				t.Fatalf("NewPassphrase: %v", err)
			}

			got, err := c.DecryptHex(v.CiphertextHex)
			if err != nil {
				t.Fatalf("DecryptHex: %v", err)
			}
			if string(got) != v.Plaintext {
				t.Errorf("DecryptHex = %q, want %q", got, v.Plaintext)
			}

			// For an ASCII key, New derives the same passphrase.
			if isASCII(v.EncryptionKey) {
				got, err := mustNew(t, v.EncryptionKey).DecryptHex(v.CiphertextHex)
				if err != nil {
					t.Fatalf("New(...).DecryptHex: %v", err)
				}
				if string(got) != v.Plaintext {
					t.Errorf("New(...).DecryptHex = %q, want %q", got, v.Plaintext)
				}
			}
		})
	}
}

// TestDecryptKohaConfKey uses a value that Crypt::CBC 3.04 encrypted with a
// non-ASCII key read from a UTF-8 koha-conf.xml by XML::Simple, as Koha
// reads it. Perl hashed that key as ISO-8859-1 bytes.
func TestDecryptKohaConfKey(t *testing.T) {
	t.Parallel()

	const (
		key        = "a key with spaces and ünïcödé"
		ciphertext = "53616c7465645f5f53ac8ad5074e7c430242aaf362e92fb1152bb970d34ff9c0"
	)

	got, err := mustNew(t, key).DecryptHex(ciphertext)
	if err != nil {
		t.Fatalf("DecryptHex: %v", err)
	}
	if string(got) != "hello" {
		t.Errorf("DecryptHex = %q, want %q", got, "hello")
	}

	utf8Cipher, err := kohacrypt.NewPassphrase([]byte(key))
	if err != nil {
		t.Fatalf("NewPassphrase: %v", err)
	}
	if _, err := utf8Cipher.DecryptHex(ciphertext); err == nil {
		t.Error("DecryptHex with the UTF-8 bytes of the key succeeded, want an error")
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		plaintext []byte
	}{
		{"empty", []byte{}},
		{"one byte", []byte("x")},
		{"block minus one", bytes.Repeat([]byte("a"), 15)},
		{"one block", bytes.Repeat([]byte("b"), 16)},
		{"block plus one", bytes.Repeat([]byte("c"), 17)},
		{"multi block", bytes.Repeat([]byte("0123456789"), 40)},
		{"utf8", []byte(`{"client_secret":"pässwörd ❤️ 秘密"}`)},
		{"binary", []byte{0, 1, 2, 0xff, 0x10, 0x10, 0x10}},
	}

	c := mustNew(t, "wJx4r0Yc3mKq9PzT1bN8aS6dV2fH5gL7")

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			encrypted, err := c.EncryptHex(tt.plaintext)
			if err != nil {
				t.Fatalf("EncryptHex: %v", err)
			}
			if !strings.HasPrefix(encrypted, "53616c7465645f5f") {
				t.Errorf("EncryptHex = %s, want prefix 53616c7465645f5f", encrypted)
			}
			if encrypted != strings.ToLower(encrypted) {
				t.Errorf("EncryptHex = %s, want lower-case hex", encrypted)
			}

			wantLen := 2 * (16 + (len(tt.plaintext)/16+1)*16)
			if len(encrypted) != wantLen {
				t.Errorf("len(EncryptHex) = %d, want %d", len(encrypted), wantLen)
			}

			decrypted, err := c.DecryptHex(encrypted)
			if err != nil {
				t.Fatalf("DecryptHex: %v", err)
			}
			if !bytes.Equal(decrypted, tt.plaintext) {
				t.Errorf("DecryptHex = %q, want %q", decrypted, tt.plaintext)
			}
		})
	}
}

func TestEncryptRandomSalt(t *testing.T) {
	t.Parallel()

	c := mustNew(t, "k")

	first, err := c.EncryptHex([]byte("same"))
	if err != nil {
		t.Fatalf("EncryptHex: %v", err)
	}
	second, err := c.EncryptHex([]byte("same"))
	if err != nil {
		t.Fatalf("EncryptHex: %v", err)
	}

	if first == second {
		t.Errorf("two encryptions of the same plaintext are equal: %s", first)
	}
}

func TestDecryptUpperCaseHex(t *testing.T) {
	t.Parallel()

	c := mustNew(t, "k")
	encrypted, err := c.EncryptHex([]byte("value"))
	if err != nil {
		t.Fatalf("EncryptHex: %v", err)
	}

	got, err := c.DecryptHex(strings.ToUpper(encrypted))
	if err != nil {
		t.Fatalf("DecryptHex: %v", err)
	}
	if string(got) != "value" {
		t.Errorf("DecryptHex = %q, want %q", got, "value")
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		key  string
		want error
	}{
		{"empty", "", kohacrypt.ErrMissingKey},
		{"placeholder", "__ENCRYPTION_KEY__", kohacrypt.ErrPlaceholderKey},
		{"wide character", "key ❤", kohacrypt.ErrWideCharacterKey},
		{"invalid utf8", "key \xff", kohacrypt.ErrWideCharacterKey},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			c, err := kohacrypt.New(tt.key)
			if !errors.Is(err, tt.want) {
				t.Fatalf("New error = %v, want %v", err, tt.want)
			}
			if c != nil {
				t.Errorf("New returned a Cipher with error %v", err)
			}
			// The placeholder is public, so only real keys must stay out of messages.
			if tt.want != kohacrypt.ErrPlaceholderKey && tt.key != "" && strings.Contains(err.Error(), tt.key) {
				t.Errorf("error %q contains the key", err)
			}
		})
	}
}

func TestNewPassphraseErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		passphrase []byte
		want       error
	}{
		{"nil", nil, kohacrypt.ErrMissingKey},
		{"empty", []byte{}, kohacrypt.ErrMissingKey},
		{"placeholder", []byte("__ENCRYPTION_KEY__"), kohacrypt.ErrPlaceholderKey},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			_, err := kohacrypt.NewPassphrase(tt.passphrase)
			if !errors.Is(err, tt.want) {
				t.Errorf("NewPassphrase error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestWrongKey(t *testing.T) {
	t.Parallel()

	// A wrong key passes the padding check with a probability of about
	// 1/256 per value, so several values are tried and all but a few must
	// fail with ErrBadPadding. None may decrypt to the plaintext.
	right := mustNew(t, "right key")
	wrong := mustNew(t, "wrong key")

	const rounds = 64
	var badPadding int
	for range rounds {
		encrypted, err := right.EncryptHex([]byte("secret value"))
		if err != nil {
			t.Fatalf("EncryptHex: %v", err)
		}

		got, err := wrong.DecryptHex(encrypted)
		if err == nil {
			if string(got) == "secret value" {
				t.Fatal("DecryptHex with the wrong key returned the plaintext")
			}
			continue
		}

		if !errors.Is(err, kohacrypt.ErrBadPadding) {
			t.Fatalf("DecryptHex error = %v, want ErrBadPadding", err)
		}
		if !strings.Contains(err.Error(), "encryption_key") {
			t.Errorf("error %q does not mention encryption_key", err)
		}
		if strings.Contains(err.Error(), "right key") || strings.Contains(err.Error(), "wrong key") {
			t.Errorf("error %q contains a key", err)
		}
		badPadding++
	}

	if badPadding < rounds-4 {
		t.Errorf("%d of %d decryptions with the wrong key failed, want at least %d", badPadding, rounds, rounds-4)
	}
}

func TestDecryptErrors(t *testing.T) {
	t.Parallel()

	c := mustNew(t, "k")
	saltedHeader := hex.EncodeToString([]byte("Salted__12345678"))

	tests := []struct {
		name  string
		input string
		want  error
	}{
		{"empty", "", kohacrypt.ErrMissingHeader},
		{"not hex", "53616c74zz", kohacrypt.ErrNotHex},
		{"odd length", "53616c7", kohacrypt.ErrNotHex},
		{"no header", hex.EncodeToString(bytes.Repeat([]byte("x"), 32)), kohacrypt.ErrMissingHeader},
		{"header without salt", hex.EncodeToString([]byte("Salted__1234")), kohacrypt.ErrMissingHeader},
		{"no ciphertext", saltedHeader, kohacrypt.ErrBadLength},
		{"partial block", saltedHeader + strings.Repeat("ab", 15), kohacrypt.ErrBadLength},
		{"block and a half", saltedHeader + strings.Repeat("ab", 24), kohacrypt.ErrBadLength},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := c.DecryptHex(tt.input)
			if !errors.Is(err, tt.want) {
				t.Fatalf("DecryptHex error = %v, want %v", err, tt.want)
			}
			if got != nil {
				t.Errorf("DecryptHex returned %q with an error", got)
			}

			var decryptErr *kohacrypt.DecryptError
			if !errors.As(err, &decryptErr) {
				t.Errorf("error %T is not a *DecryptError", err)
			}
		})
	}
}

func TestCipherFormatHidesKey(t *testing.T) {
	t.Parallel()

	const key = "do-not-print-this-key"
	c := mustNew(t, key)

	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, value := range []any{c, *c} {
			text := fmt.Sprintf(verb, value)
			if strings.Contains(text, key) || strings.Contains(text, hex.EncodeToString([]byte(key))) {
				t.Errorf("Sprintf(%q, %T) = %q, contains the key", verb, value, text)
			}
		}
	}

	if strings.Contains(fmt.Sprintf("%v", c), fmt.Sprint([]byte(key))) {
		t.Errorf("Sprintf(%%v) shows the key bytes")
	}
}

// perlScript encrypts or decrypts one value with Crypt::CBC as
// Koha::Encryption constructs it. The key arrives UTF-8 encoded in an
// environment variable and is decoded into characters, as Koha holds the
// koha-conf.xml value. Input and output are hex on one line.
const perlScript = `
use strict;
use warnings;
use Crypt::CBC;
use Encode qw(decode);

my $key = decode('UTF-8', $ENV{KOHACRYPT_TEST_KEY}, Encode::FB_CROAK);
my $cbc = Crypt::CBC->new(-key => $key, -cipher => 'Cipher::AES', -nodeprecate => 1);
my $input = <STDIN>;
chomp $input;
if ($ARGV[0] eq 'decrypt') {
    print unpack('H*', $cbc->decrypt_hex($input));
} else {
    print $cbc->encrypt_hex(pack('H*', $input));
}
`

func requirePerlCBC(t *testing.T) {
	t.Helper()

	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("perl not found; install perl, libcrypt-cbc-perl and libcryptx-perl to run this test")
	}

	cmd := exec.CommandContext(t.Context(), "perl", "-MCrypt::CBC", "-MCrypt::Cipher::AES", "-e1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("perl lacks Crypt::CBC or Crypt::Cipher::AES (install libcrypt-cbc-perl and libcryptx-perl): %v: %s",
			err, out)
	}
}

func runPerl(t *testing.T, mode, key, inputHex string) string {
	t.Helper()

	cmd := exec.CommandContext(t.Context(), "perl", "-e", perlScript, mode)
	cmd.Env = append(os.Environ(), "KOHACRYPT_TEST_KEY="+key)
	cmd.Stdin = strings.NewReader(inputHex + "\n")

	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("perl %s: %v: %s", mode, err, stderr.String())
	}

	return string(out)
}

func TestPerlRoundTrip(t *testing.T) {
	t.Parallel()
	requirePerlCBC(t)

	tests := []struct {
		name      string
		key       string
		plaintext string
	}{
		{"ascii key", "wJx4r0Yc3mKq9PzT1bN8aS6dV2fH5gL7", `{"auth_url":"https://auth.example.org/token"}`},
		{"latin1 key", "clé spéciale ñ", "short"},
		{"empty plaintext", "k", ""},
		{"one block", "0123456789abcdef", "xxxxxxxxxxxxxxxx"},
		{"utf8 plaintext", "key with space ", `{"client_secret":"pässwörd ❤️"}`},
		{"multi block", "k2", strings.Repeat("multi-block plaintext ", 20)},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			c := mustNew(t, tt.key)

			encrypted, err := c.EncryptHex([]byte(tt.plaintext))
			if err != nil {
				t.Fatalf("EncryptHex: %v", err)
			}
			perlPlainHex := runPerl(t, "decrypt", tt.key, encrypted)
			if want := hex.EncodeToString([]byte(tt.plaintext)); perlPlainHex != want {
				t.Errorf("Perl decrypt_hex of Go output = %s, want %s", perlPlainHex, want)
			}

			perlEncrypted := runPerl(t, "encrypt", tt.key, hex.EncodeToString([]byte(tt.plaintext)))
			decrypted, err := c.DecryptHex(perlEncrypted)
			if err != nil {
				t.Fatalf("DecryptHex of Perl output %s: %v", perlEncrypted, err)
			}
			if string(decrypted) != tt.plaintext {
				t.Errorf("DecryptHex of Perl output = %q, want %q", decrypted, tt.plaintext)
			}
		})
	}
}

func TestEncryptVectorsWithSalt(t *testing.T) {
	t.Parallel()

	for i, v := range loadVectors(t) {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()

			raw, err := hex.DecodeString(v.CiphertextHex)
			if err != nil || len(raw) < 16 {
				t.Fatalf("vector ciphertext is not hex with a 16-byte prefix: %v", err)
			}

			c, err := kohacrypt.NewPassphrase([]byte(v.EncryptionKey))
			if err != nil {
				t.Fatalf("NewPassphrase: %v", err)
			}

			got, err := c.EncryptHexWithSalt([]byte(v.Plaintext), raw[8:16])
			if err != nil {
				t.Fatalf("EncryptHexWithSalt: %v", err)
			}
			if got != v.CiphertextHex {
				t.Errorf("EncryptHexWithSalt = %s, want %s", got, v.CiphertextHex)
			}
		})
	}
}
