package engine

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"usermerge"
	"usermerge/store"
	"usermerge/store/storetest"
)

// signInFixture is the fixture with admin's password set, and a hook that
// counts the password checks of sign-ins: against a stored hash, and
// against the dummy hash.
func signInFixture(t *testing.T) (f *fixture, real, dummy *atomic.Int64) {
	t.Helper()
	f = newFixture(t, "learningbox")
	if err := f.e.SetPassword(f.ctx, f.tenant, "admin", "the right password"); err != nil {
		t.Fatal(err)
	}
	real, dummy = new(atomic.Int64), new(atomic.Int64)
	f.e.verifyHook = func(hash string) {
		if hash == "" {
			dummy.Add(1)
		} else {
			real.Add(1)
		}
	}
	return f, real, dummy
}

func (f *fixture) throttle(login string) (int, *time.Time) {
	f.t.Helper()
	var n int
	var until *time.Time
	f.tx(func(tx *store.Tx) error {
		var err error
		n, until, err = tx.SignInFailures(f.ctx, f.tenant, login)
		return err
	})
	return n, until
}

// TestSignInFailuresCountedAtomically: 48 parallel wrong guesses lose no
// count. The lock is decided before the password is checked, so exactly
// three guesses (the attempts before the lockout) reach the admin's hash;
// every other one is refused with the same answer after one check against
// the dummy hash, and even the right password is then refused.
func TestSignInFailuresCountedAtomically(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f, real, dummy := signInFixture(t)
		const n = 48
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, errs[i] = f.e.SignIn(f.ctx, SignInRequest{Tenant: f.tenant, Login: "admin", Password: "a wrong guess"})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != errBadCredentials {
				t.Fatalf("guess %d: %v, want the one bad-credentials answer", i, err)
			}
		}
		if got := real.Load(); got != 3 {
			t.Errorf("%d guesses reached the admin's hash; want 3 (the lock is set by the third attempt)", got)
		}
		if got := real.Load() + dummy.Load(); got != n {
			t.Errorf("%d password checks for %d failed sign-ins; want one each", got, n)
		}
		if count, until := f.throttle("admin"); count != 3 || until == nil || !until.Equal(base.Add(time.Second)) {
			t.Errorf("after %d parallel guesses: %d counted, locked until %v; want 3 counted and locked for 1 s", n, count, until)
		}
		if _, err := f.e.SignIn(f.ctx, SignInRequest{Tenant: f.tenant, Login: "admin", Password: "the right password"}); err != errBadCredentials {
			t.Errorf("the right password while locked out: %v, want refused", err)
		}
	})
}

// TestSignInSameWorkForEveryFailure: an unknown login, a locked-out login,
// a wrong password, an unknown tenant and a hash this server refuses each
// cost exactly one Argon2id check and get the same error; unknown logins
// are counted and locked out like known ones.
func TestSignInSameWorkForEveryFailure(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f, real, dummy := signInFixture(t)
		f.exec(`UPDATE admins SET password_hash = ? WHERE tenant_id = ? AND login = ?`,
			"$argon2id$v=19$m=1048576,t=10,p=255$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5", f.tenant, "eng-viewer")
		for _, tc := range []struct {
			name                string
			tenant, login, pw   string
			wantReal, wantDummy int64
		}{
			{"a wrong password", f.tenant, "admin", "wrong", 1, 0},
			{"an unknown login", f.tenant, "nobody", "wrong", 0, 1},
			{"an unknown login again", f.tenant, "nobody", "wrong", 0, 1},
			{"an unknown login the third time", f.tenant, "nobody", "wrong", 0, 1},
			{"an unknown login, locked out", f.tenant, "nobody", "wrong", 0, 1},
			{"an unknown tenant", "nowhere", "admin", "the right password", 0, 1},
			{"an admin without a password", f.tenant, "sales-editor", "anything", 1, 0}, // "" is checked as the dummy by VerifyPassword
			{"a hash with parameters over the server's", f.tenant, "eng-viewer", "anything", 1, 0},
		} {
			real.Store(0)
			dummy.Store(0)
			_, err := f.e.SignIn(f.ctx, SignInRequest{Tenant: tc.tenant, Login: tc.login, Password: tc.pw})
			if err != errBadCredentials {
				t.Errorf("%s: %v, want the one bad-credentials answer", tc.name, err)
			}
			if real.Load()+dummy.Load() != 1 {
				t.Errorf("%s: %d password checks, want exactly one", tc.name, real.Load()+dummy.Load())
			}
			if tc.name != "an admin without a password" && (real.Load() != tc.wantReal || dummy.Load() != tc.wantDummy) {
				t.Errorf("%s: %d checks against a stored hash and %d against the dummy; want %d and %d", tc.name, real.Load(), dummy.Load(), tc.wantReal, tc.wantDummy)
			}
		}
		if count, until := f.throttle("nobody"); count != 3 || until == nil {
			t.Errorf("the unknown login: %d counted, locked until %v; want 3 and locked", count, until)
		}
		f.tx(func(tx *store.Tx) error {
			n, err := tx.Count(f.ctx, `SELECT COUNT(*) FROM signin_throttle WHERE tenant_id = ?`, "nowhere")
			if err == nil && n != 0 {
				t.Errorf("an unknown tenant got %d throttle rows; want none", n)
			}
			return err
		})
		if _, err := f.e.SignIn(f.ctx, SignInRequest{Tenant: f.tenant, Login: "admin", Password: "the right password"}); err != nil {
			t.Errorf("admin with the right password after one failure: %v", err)
		}
		if count, _ := f.throttle("admin"); count != 0 {
			t.Errorf("a sign-in left %d counted failures; want none", count)
		}
	})
}

// TestPasswordChangeEndsSessions: setting an admin's password ends that
// admin's sessions, and only theirs.
func TestPasswordChangeEndsSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f, _, _ := signInFixture(t)
		if err := f.e.SetPassword(f.ctx, f.tenant, "sales-editor", "the editor's password"); err != nil {
			t.Fatal(err)
		}
		admin, err := f.e.SignIn(f.ctx, SignInRequest{Tenant: f.tenant, Login: "admin", Password: "the right password"})
		if err != nil {
			t.Fatal(err)
		}
		editor, err := f.e.SignIn(f.ctx, SignInRequest{Tenant: f.tenant, Login: "sales-editor", Password: "the editor's password"})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.e.SetPassword(f.ctx, f.tenant, "admin", "a new password for admin"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.e.Session(f.ctx, f.tenant, admin.Secret); usermerge.ErrorCode(err) != usermerge.Unauthenticated {
			t.Errorf("admin's session after the password change: %v, want ended", err)
		}
		if s, err := f.e.Session(f.ctx, f.tenant, editor.Secret); err != nil || s.Login != "sales-editor" {
			t.Errorf("another admin's session after admin's password change: %+v %v, want still live", s, err)
		}
		if _, err := f.e.SignIn(f.ctx, SignInRequest{Tenant: f.tenant, Login: "admin", Password: "the right password"}); err != errBadCredentials {
			t.Errorf("the old password: %v, want refused", err)
		}
	})
}
