package match

import (
	"strings"
	"testing"
)

func TestNormalizeEmail(t *testing.T) {
	plain, strip := EmailOptions{}, EmailOptions{StripPlusTags: true}
	cases := []struct {
		in   string
		opt  EmailOptions
		want string
	}{
		{"John.Smith@Example.COM", plain, "john.smith@example.com"},
		{"  john@example.com\n", plain, "john@example.com"},
		{"John.Smith+course@gmail.com", plain, "johnsmith@gmail.com"},
		{"j.o.h.n@googlemail.com", plain, "john@gmail.com"},
		{"J.Smith+a+b@GMail.com", plain, "jsmith@gmail.com"},
		{"john@gmail.com.", plain, "john@gmail.com"},
		// Dots and tags stay at other domains unless asked.
		{"john.smith+course@example.com", plain, "john.smith+course@example.com"},
		{"john.smith+course@example.com", strip, "john.smith@example.com"},
		{"john.smith@example.com", strip, "john.smith@example.com"},
		// A gmail-like domain is not gmail.
		{"j.smith+x@gmail.co.uk", plain, "j.smith+x@gmail.co.uk"},
		{"j.smith@notgmail.com", plain, "j.smith@notgmail.com"},
		// The last @ splits (a quoted local part may hold one).
		{`"a@b"@example.com`, plain, `"a@b"@example.com`},
		// Not addresses.
		{"", plain, ""},
		{"   ", plain, ""},
		{"john", plain, ""},
		{"@example.com", plain, ""},
		{"john@", plain, ""},
		{"john@.", plain, ""},
		{"+tag@gmail.com", plain, ""},
		{"...@gmail.com", plain, ""},
		{"+tag@example.com", strip, ""},
		{strings.Repeat("a", MaxEmailBytes) + "@example.com", plain, ""},
		{"J\xffhn@example.com", plain, "j\uFFFDhn@example.com"}, // an invalid byte becomes U+FFFD
	}
	for _, c := range cases {
		if got := NormalizeEmail(c.in, c.opt); got != c.want {
			t.Errorf("NormalizeEmail(%q, %+v) = %q, want %q", c.in, c.opt, got, c.want)
		}
	}
}

func TestEmailLocalPart(t *testing.T) {
	cases := []struct{ in, want string }{
		{"John.Smith+x@gmail.com", "johnsmith"},
		{"John.Smith+x@example.com", "john.smith+x"},
		{"nobody", ""},
		{"", ""},
	}
	for _, c := range cases {
		if got := EmailLocalPart(c.in, EmailOptions{}); got != c.want {
			t.Errorf("EmailLocalPart(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := EmailLocalPart("John.Smith+x@example.com", EmailOptions{StripPlusTags: true}); got != "john.smith" {
		t.Errorf("EmailLocalPart with StripPlusTags = %q, want john.smith", got)
	}
}

func TestCompareEmails(t *testing.T) {
	plain, strip := EmailOptions{}, EmailOptions{StripPlusTags: true}
	cases := []struct {
		name string
		a, b string
		opt  EmailOptions
		want EmailLevel
	}{
		{"missing one", "", "john@example.com", plain, EmailMissing},
		{"missing both", "", "", plain, EmailMissing},
		{"not an address", "john", "john@example.com", plain, EmailMissing},
		{"exact", "john@example.com", "john@example.com", plain, EmailExact},
		{"exact outer space", " john@example.com", "john@example.com ", plain, EmailExact},
		{"case", "John@Example.com", "john@example.com", plain, EmailNormalised},
		{"gmail dots", "john.smith@gmail.com", "johnsmith@gmail.com", plain, EmailNormalised},
		{"gmail tag", "johnsmith+moodle@gmail.com", "johnsmith@googlemail.com", plain, EmailNormalised},
		{"tag elsewhere, kept", "john+x@example.com", "john@example.com", plain, EmailLocalJW},
		{"tag elsewhere, stripped", "john+x@example.com", "john@example.com", strip, EmailNormalised},
		{"dots elsewhere matter", "john.smith@example.com", "johnsmith@example.com", plain, EmailLocalJW},
		{"same local other domain", "jsmith@example.com", "jsmith@school.edu", plain, EmailSameLocal},
		{"same local after gmail rules", "j.smith+x@gmail.com", "jsmith@school.edu", plain, EmailSameLocal},
		{"local typo", "martha.jones@example.com", "marhta.jones@example.com", plain, EmailLocalJW},
		{"different", "john.smith@example.com", "mary.jones@example.com", plain, EmailDifferent},
		{"different short", "ab@example.com", "cd@example.com", plain, EmailDifferent},
	}
	for _, c := range cases {
		for _, p := range [][2]string{{c.a, c.b}, {c.b, c.a}} {
			got := CompareEmails(p[0], p[1], c.opt)
			if got.Level != c.want {
				t.Errorf("%s: CompareEmails(%q, %q) = %v (%.3f), want %v", c.name, p[0], p[1], got.Level, got.Similarity, c.want)
			}
		}
	}
}

// TestCompareEmailsThreshold: the local-part level on both sides of
// EmailLocalJWMin, with the similarity reported.
func TestCompareEmailsThreshold(t *testing.T) {
	above := CompareEmails("tanya@a.org", "tonya@b.org", EmailOptions{}) // 0.880
	if above.Level != EmailLocalJW || !near(above.Similarity, 0.880) {
		t.Errorf("tanya/tonya: %v %.4f, want local_part_jw 0.880", above.Level, above.Similarity)
	}
	below := CompareEmails("dwayne@a.org", "duane@b.org", EmailOptions{}) // 0.840
	if below.Level != EmailDifferent || !near(below.Similarity, 0.840) {
		t.Errorf("dwayne/duane: %v %.4f, want different 0.840", below.Level, below.Similarity)
	}
}

func TestEmailLevelString(t *testing.T) {
	want := []string{"missing", "exact", "normalised", "same_local_part", "local_part_jw", "different"}
	for l := EmailMissing; l <= EmailDifferent; l++ {
		if got := l.String(); got != want[l] {
			t.Errorf("EmailLevel(%d) = %q, want %q", l, got, want[l])
		}
	}
	if got := EmailLevel(-1).String(); got != "unknown" {
		t.Errorf("EmailLevel(-1) = %q, want unknown", got)
	}
}
