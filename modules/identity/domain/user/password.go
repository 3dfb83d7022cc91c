package user

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/taskd/taskd/modules/kernel/errs"
)

const (
	MinPasswordLength = 10
	MaxPasswordLength = 256
)

var (
	ErrPasswordTooShort = errs.Invalid("password_too_short", "password", "password must be at least 10 characters")
	ErrPasswordTooLong  = errs.Invalid("password_too_long", "password", "password must be at most 256 characters")
	ErrPasswordIsEmail  = errs.Invalid("password_is_email", "password", "password must not be the e-mail address")
)

// CheckPasswordPolicy enforces the password rules for a user with e-mail email.
func CheckPasswordPolicy(password string, email Email) error {
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLength {
		return ErrPasswordTooShort
	}
	if n > MaxPasswordLength {
		return ErrPasswordTooLong
	}
	if strings.EqualFold(strings.TrimSpace(password), email.String()) {
		return ErrPasswordIsEmail
	}
	return nil
}

// Argon2id parameters (RFC 9106 second recommended option, with 64 MiB
// scaled down to 19 MiB as OWASP suggests for servers with many sign-ins).
type HashParams struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultHashParams are used for new hashes.
var DefaultHashParams = HashParams{Time: 2, Memory: 19 * 1024, Threads: 1}

// Bounds on parameters, so that a malformed stored hash can neither panic
// argon2 (zero time or threads) nor make it allocate without limit.
const (
	maxHashTime   = 100
	maxHashMemory = 1 << 20 // KiB: 1 GiB
)

func (p HashParams) valid() bool {
	return p.Time >= 1 && p.Time <= maxHashTime && p.Memory >= 1 && p.Memory <= maxHashMemory && p.Threads >= 1
}

// HashPassword returns an encoded argon2id hash ($argon2id$v=19$m=…,t=…,p=…$salt$key).
func HashPassword(password string, p HashParams) (string, error) {
	if !p.valid() {
		return "", fmt.Errorf("invalid argon2id parameters %+v", p)
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("reading salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword tells whether password matches the encoded hash, in
// constant time with respect to the key.
func VerifyPassword(password, encoded string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	var p HashParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil || !p.valid() {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
