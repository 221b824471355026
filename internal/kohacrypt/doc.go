// Package kohacrypt encrypts and decrypts values in the format of Koha's
// Koha::Encryption, so that values Koha stores encrypted (such as plugin
// credentials) can be read and written by this service.
//
// Koha::Encryption is Perl's Crypt::CBC (checked with 3.04) constructed with
// the <encryption_key> of koha-conf.xml as a passphrase and the AES cipher.
// Its output is the OpenSSL "enc" format with an MD5 key derivation:
//
//	"Salted__" | 8-byte random salt | AES-256-CBC ciphertext with PKCS#7 padding
//
// The AES key and IV are OpenSSL's EVP_BytesToKey with MD5, one iteration,
// the passphrase and the salt. Koha stores the whole output as lower-case hex
// (Crypt::CBC's encrypt_hex), so every value starts with 53616c7465645f5f.
//
// The same value can be produced or read with
//
//	openssl enc -aes-256-cbc -md md5 -pass pass:KEY
//
// Padding is checked in full on decryption, although Crypt::CBC only strips
// the number of bytes the last byte names. A wrong passphrase therefore fails
// with ErrBadPadding in almost every case. It passes that check only when the
// last decrypted byte happens to form valid padding (an estimated 1 in 256),
// and DecryptHex then returns garbage.
package kohacrypt
