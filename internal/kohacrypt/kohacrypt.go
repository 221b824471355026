package kohacrypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
)

// PlaceholderKey is the value of <encryption_key> in a koha-conf.xml
// template that was never filled in. Koha::Encryption rejects it.
const PlaceholderKey = "__ENCRYPTION_KEY__"

const (
	// header is the OpenSSL "salted" magic that starts every value.
	header = "Salted__"
	// saltSize is the length of the salt that follows the header.
	saltSize = 8
	// prefixSize is the length of header plus salt.
	prefixSize = len(header) + saltSize
	// keySize is the AES-256 key length that Crypt::CBC takes from the cipher.
	keySize = 32
)

// Errors returned by New. None of the messages contains the key.
var (
	// ErrMissingKey means the encryption key is empty.
	ErrMissingKey = errors.New("kohacrypt: encryption key is missing (set <encryption_key> in koha-conf.xml)")
	// ErrPlaceholderKey means the encryption key is still PlaceholderKey.
	ErrPlaceholderKey = errors.New("kohacrypt: encryption key is still the placeholder " + PlaceholderKey +
		" (set <encryption_key> in koha-conf.xml)")
	// ErrWideCharacterKey means the key contains a character above U+00FF,
	// which Koha cannot use either (see New).
	ErrWideCharacterKey = errors.New("kohacrypt: encryption key contains a character above U+00FF, " +
		"which Koha's Crypt::CBC rejects with \"Wide character\" (use a key of ASCII characters)")
)

// Kinds of DecryptError, for use with errors.Is.
var (
	// ErrNotHex means the value is not a hexadecimal string.
	ErrNotHex = errors.New("not hexadecimal")
	// ErrMissingHeader means the decoded value does not start with "Salted__".
	ErrMissingHeader = errors.New("missing Salted__ header")
	// ErrBadLength means the ciphertext is empty or not a whole number of AES blocks.
	ErrBadLength = errors.New("invalid ciphertext length")
	// ErrBadPadding means the decrypted data does not end in valid PKCS#7
	// padding, which almost always means the passphrase is wrong.
	ErrBadPadding = errors.New("invalid padding")
)

// DecryptError reports a value that DecryptHex cannot decrypt. Kind is one
// of ErrNotHex, ErrMissingHeader, ErrBadLength and ErrBadPadding. The message
// never contains the passphrase or any decrypted bytes.
type DecryptError struct {
	Kind   error
	Detail string
}

// Error returns the reason and what to check.
func (e *DecryptError) Error() string {
	return "kohacrypt: decryption failed: " + e.Kind.Error() + ": " + e.Detail
}

// Unwrap returns Kind.
func (e *DecryptError) Unwrap() error { return e.Kind }

// Cipher encrypts and decrypts with one Koha encryption key. It is safe for
// concurrent use.
type Cipher struct {
	passphrase []byte
}

// New returns a Cipher for the value of <encryption_key> in koha-conf.xml.
//
// Koha reads koha-conf.xml into Perl character strings, and Perl's MD5 then
// hashes a key whose characters are all at most U+00FF as one ISO-8859-1 byte
// per character. New converts the key the same way, so a key such as "ünï"
// yields the passphrase bytes fc 6e ef and not its UTF-8 encoding. For an
// ASCII key both are the same. A key with a character above U+00FF makes
// Koha fail with "Wide character", and New returns ErrWideCharacterKey.
//
// New returns ErrMissingKey for "" and ErrPlaceholderKey for PlaceholderKey.
// The key is used exactly as given, including any surrounding white space,
// as Koha does.
func New(encryptionKey string) (*Cipher, error) {
	if err := checkKey(encryptionKey); err != nil {
		return nil, err
	}

	passphrase := make([]byte, 0, len(encryptionKey))
	for _, r := range encryptionKey {
		// Invalid UTF-8 decodes to U+FFFD, so it is rejected here too.
		if r > 0xFF {
			return nil, ErrWideCharacterKey
		}
		passphrase = append(passphrase, byte(r))
	}

	return &Cipher{passphrase: passphrase}, nil
}

// NewPassphrase returns a Cipher that hashes the passphrase bytes as given,
// as Crypt::CBC does with a Perl byte string. Use it for values that a Perl program
// encrypted with a key that it did not decode, for example a UTF-8 literal
// in a script without "use utf8". Values that Koha itself encrypted need New.
//
// NewPassphrase returns the same key errors as New, except ErrWideCharacterKey.
func NewPassphrase(passphrase []byte) (*Cipher, error) {
	if err := checkKey(string(passphrase)); err != nil {
		return nil, err
	}

	return &Cipher{passphrase: bytes.Clone(passphrase)}, nil
}

func checkKey(key string) error {
	switch key {
	case "":
		return ErrMissingKey
	case PlaceholderKey:
		return ErrPlaceholderKey
	}

	return nil
}

// String returns a fixed text so that printing a Cipher never shows the key.
func (Cipher) String() string { return "kohacrypt.Cipher{passphrase: redacted}" }

// GoString returns the same text as String, for the %#v verb.
func (c Cipher) GoString() string { return c.String() }

// EncryptHex encrypts plaintext with a random salt from crypto/rand and
// returns the lower-case hex that Koha::Encryption's encrypt_hex produces.
// Each call gives a different result for the same plaintext.
func (c *Cipher) EncryptHex(plaintext []byte) (string, error) {
	salt := make([]byte, saltSize)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("kohacrypt: reading a random salt failed: %w", err)
	}

	return c.encryptHexWithSalt(plaintext, salt)
}

func (c *Cipher) encryptHexWithSalt(plaintext, salt []byte) (string, error) {
	block, iv, err := c.blockAndIV(salt)
	if err != nil {
		return "", err
	}

	padded := pad(plaintext)
	out := make([]byte, prefixSize+len(padded))
	copy(out, header)
	copy(out[len(header):], salt)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out[prefixSize:], padded)

	return hex.EncodeToString(out), nil
}

// DecryptHex decrypts a value that Koha::Encryption's encrypt_hex produced.
// Upper-case hex is accepted as well. Errors are *DecryptError values.
func (c *Cipher) DecryptHex(hexText string) ([]byte, error) {
	raw, err := hex.DecodeString(hexText)
	if err != nil {
		return nil, &DecryptError{Kind: ErrNotHex, Detail: describeHexError(err)}
	}

	if len(raw) < prefixSize || string(raw[:len(header)]) != header {
		return nil, &DecryptError{
			Kind: ErrMissingHeader,
			Detail: fmt.Sprintf("the %d decoded bytes do not start with \"Salted__\" and an 8-byte salt "+
				"(hex 53616c7465645f5f...), so the value was not made by Koha::Encryption", len(raw)),
		}
	}

	body := raw[prefixSize:]
	if len(body) == 0 || len(body)%aes.BlockSize != 0 {
		return nil, &DecryptError{
			Kind: ErrBadLength,
			Detail: fmt.Sprintf("%d bytes follow the 16-byte header and salt, expected a positive multiple of %d, "+
				"so the value is probably truncated", len(body), aes.BlockSize),
		}
	}

	block, iv, err := c.blockAndIV(raw[len(header):prefixSize])
	if err != nil {
		return nil, err
	}

	plain := make([]byte, len(body))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, body)

	unpadded, ok := unpad(plain)
	if !ok {
		return nil, &DecryptError{
			Kind: ErrBadPadding,
			Detail: "the decrypted data does not end in valid PKCS#7 padding, which most likely means the encryption_key " +
				"in koha-conf.xml differs from the one the value was encrypted with",
		}
	}

	return unpadded, nil
}

func describeHexError(err error) string {
	var invalid hex.InvalidByteError
	if errors.As(err, &invalid) {
		return fmt.Sprintf("invalid character %q, expected the hex text of Koha::Encryption's encrypt_hex",
			rune(invalid))
	}

	return "odd number of hex digits, so the value is probably truncated"
}

// blockAndIV derives the AES key and IV from the passphrase and salt.
func (c *Cipher) blockAndIV(salt []byte) (cipher.Block, []byte, error) {
	derived := bytesToKey(c.passphrase, salt, keySize+aes.BlockSize)
	block, err := aes.NewCipher(derived[:keySize])
	if err != nil {
		return nil, nil, fmt.Errorf("kohacrypt: creating the AES cipher failed: %w", err)
	}

	return block, derived[keySize:], nil
}

// bytesToKey implements OpenSSL's EVP_BytesToKey with MD5 and one iteration:
// D1 = MD5(passphrase | salt), Di = MD5(D(i-1) | passphrase | salt), and the
// concatenation D1 | D2 | ... is cut to size bytes.
func bytesToKey(passphrase, salt []byte, size int) []byte {
	derived := make([]byte, 0, size+md5.Size)
	var previous []byte
	for len(derived) < size {
		h := md5.New()
		h.Write(previous)
		h.Write(passphrase)
		h.Write(salt)
		previous = h.Sum(nil)
		derived = append(derived, previous...)
	}

	return derived[:size]
}

// pad appends PKCS#7 padding: 1 to 16 bytes, each containing the pad length.
func pad(data []byte) []byte {
	n := aes.BlockSize - len(data)%aes.BlockSize
	padded := make([]byte, len(data)+n)
	copy(padded, data)
	for i := len(data); i < len(padded); i++ {
		padded[i] = byte(n)
	}

	return padded
}

// unpad removes PKCS#7 padding and reports whether every padding byte was valid.
func unpad(data []byte) ([]byte, bool) {
	if len(data) == 0 {
		return nil, false
	}

	n := int(data[len(data)-1])
	if n == 0 || n > aes.BlockSize || n > len(data) {
		return nil, false
	}

	for _, b := range data[len(data)-n:] {
		if int(b) != n {
			return nil, false
		}
	}

	return data[:len(data)-n], true
}
