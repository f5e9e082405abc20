package usermerge

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Passwords are hashed with Argon2id at the parameters OWASP recommends as
// a minimum (19 MiB, 2 passes, 1 lane): memory-hard, so guessing is costly
// even on GPUs, yet a sign-in takes only tens of milliseconds here.
//
// These are also the most a stored hash may ask for: a hash with more
// memory, passes or lanes (say, one planted by an import) would let every
// wrong sign-in cost the server what the hash's author chose, so such
// hashes are refused on import and never computed.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 10

// HashPassword returns the encoded Argon2id hash of a password.
func HashPassword(password string) (string, error) {
	if len(password) < MinPasswordLength {
		return "", Errorf(Invalid, "weak_password", "a password needs at least %d characters", MinPasswordLength)
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// PasswordHashFormat describes the hashes CheckPasswordHash accepts, for
// messages.
var PasswordHashFormat = fmt.Sprintf("an Argon2id hash \"$argon2id$v=%d$m=M,t=T,p=P$salt$key\" with m at most %d, t at most %d and p at most %d (this server's own parameters)",
	argon2.Version, argonMemory, argonTime, argonThreads)

type argonHash struct {
	m, t      uint32
	p         uint8
	salt, key []byte
}

// parseHash decodes an encoded hash and checks its parameters are at most
// the server's own. It does no hashing.
func parseHash(encoded string) (argonHash, bool) {
	var h argonHash
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return h, false
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return h, false
	}
	num := func(s, prefix string, limit uint64) (uint64, bool) {
		v, ok := strings.CutPrefix(s, prefix)
		if !ok {
			return 0, false
		}
		n, err := strconv.ParseUint(v, 10, 32)
		return n, err == nil && n >= 1 && n <= limit
	}
	m, ok1 := num(params[0], "m=", argonMemory)
	t, ok2 := num(params[1], "t=", argonTime)
	p, ok3 := num(params[2], "p=", argonThreads)
	if !ok1 || !ok2 || !ok3 || m < 8*p { // Argon2 needs at least 8 KiB per lane
		return h, false
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return h, false
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return h, false
	}
	return argonHash{m: uint32(m), t: uint32(t), p: uint8(p), salt: salt, key: key}, true
}

// CheckPasswordHash says whether an encoded hash is one this server will
// check passwords against: Argon2id, version 19, with memory, passes and
// lanes at most the server's own. Import refuses other hashes.
func CheckPasswordHash(encoded string) error {
	if _, ok := parseHash(encoded); !ok {
		return Errorf(Invalid, "invalid_password_hash", "password_hash must be %s", PasswordHashFormat)
	}
	return nil
}

// CheckPassword reports whether password matches an encoded hash, in time
// independent of where they differ. A malformed or empty hash, or one whose
// parameters exceed the server's own, never matches and is not computed.
func CheckPassword(encoded, password string) bool {
	h, ok := parseHash(encoded)
	if !ok {
		return false
	}
	got := argon2.IDKey([]byte(password), h.salt, h.t, h.m, h.p, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(got, h.key) == 1
}

// dummyHash is checked against when a sign-in cannot succeed (no such
// login, locked out, a hash this server refuses), so that every failed
// sign-in costs one Argon2id computation at the server's parameters.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("not-a-real-password-0000")
	return h
})

// CheckNoPassword spends the time of one password check and reports false.
func CheckNoPassword(password string) bool {
	CheckPassword(dummyHash(), password)
	return false
}

// VerifyPassword checks password against encoded and always spends one
// Argon2id computation at the server's parameters: against the hash when
// this server accepts it, else against a dummy hash (and reports false).
func VerifyPassword(encoded, password string) bool {
	if _, ok := parseHash(encoded); !ok {
		return CheckNoPassword(password)
	}
	return CheckPassword(encoded, password)
}
