package kohacrypt

// EncryptHexWithSalt exposes the fixed-salt encryption to the tests, which
// compare it with values that Crypt::CBC produced.
func (c *Cipher) EncryptHexWithSalt(plaintext, salt []byte) (string, error) {
	return c.encryptHexWithSalt(plaintext, salt)
}
