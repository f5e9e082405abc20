package usermerge

import (
	"runtime"
	"strings"
	"testing"
)

// TestCheckPasswordRefusesCostlyHashes: a hash whose Argon2id parameters
// exceed the server's own is refused without computing it (no memory is
// spent on it), and CheckPasswordHash says so; the server's own hashes
// and cheaper ones are checked.
func TestCheckPasswordRefusesCostlyHashes(t *testing.T) {
	own, err := HashPassword("the right password")
	if err != nil {
		t.Fatal(err)
	}
	if !CheckPassword(own, "the right password") || CheckPassword(own, "a wrong one") {
		t.Fatal("the server's own hash does not check")
	}
	if err := CheckPasswordHash(own); err != nil {
		t.Errorf("the server's own hash is refused: %v", err)
	}
	// A cheaper hash (m=4096, t=1) of "password" from the Argon2 reference.
	cheap := "$argon2id$v=19$m=4096,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$Jpgx2/ugXbhvQ5V4RvHWqs/fUKdKkXkH5qzXgqDaHeg"
	if err := CheckPasswordHash(cheap); err != nil {
		t.Errorf("a hash cheaper than the server's is refused: %v", err)
	}
	salt, key := own[strings.LastIndex(own[:strings.LastIndex(own, "$")], "$")+1:strings.LastIndex(own, "$")], own[strings.LastIndex(own, "$")+1:]
	for _, params := range []string{"m=1048576,t=10,p=255", "m=19457,t=2,p=1", "m=19456,t=3,p=1", "m=19456,t=2,p=2", "m=0,t=2,p=1", "m=19456,t=0,p=1",
		"m=99999999999,t=2,p=1", "m=19456,t=2", "t=2,m=19456,p=1", "m=19456,t=2,p=1,x=1"} {
		h := "$argon2id$v=19$" + params + "$" + salt + "$" + key
		if err := CheckPasswordHash(h); ErrorCode(err) != Invalid || !strings.Contains(ErrorMessage(err), "at most 19456") {
			t.Errorf("CheckPasswordHash(%s): %v, want invalid naming the limits", params, err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		ok := CheckPassword(h, "the right password")
		runtime.ReadMemStats(&after)
		if ok {
			t.Errorf("CheckPassword accepted a hash with %s", params)
		}
		if spent := after.TotalAlloc - before.TotalAlloc; spent > 1<<20 {
			t.Errorf("CheckPassword spent %d bytes on a hash with %s; want it refused without hashing", spent, params)
		}
	}
	for _, h := range []string{"", "x", "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key, "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$", "$argon2id$v=19$m=19456,t=2,p=1$!!$" + key} {
		if CheckPassword(h, "the right password") || CheckPasswordHash(h) == nil {
			t.Errorf("the malformed hash %q is accepted", h)
		}
	}
}
