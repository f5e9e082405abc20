package match

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// MaxEmailBytes is the longest address accepted: the 254 octets of RFC 5321's
// path limit, with room for stray white space. Anything longer is not an
// address and compares as missing.
const MaxEmailBytes = 320

// EmailOptions say which provider conventions NormalizeEmail applies beyond
// Gmail's, which always apply.
type EmailOptions struct {
	// StripPlusTags removes a "+tag" from the local part at every domain
	// (sub-addressing, RFC 5233), not only at Gmail. Many providers deliver
	// user+tag to user, but not all, so it is a tenant's choice.
	StripPlusTags bool
}

// gmailDomains deliver to one mailbox whatever dots the local part has and
// whatever follows a "+".
var gmailDomains = map[string]bool{"gmail.com": true, "googlemail.com": true}

// NormalizeEmail is the form in which two spellings of one mailbox are
// equal: trimmed, NFC, lower-cased (an invalid UTF-8 byte becomes U+FFFD),
// the domain's trailing dots dropped, googlemail.com written gmail.com, and
// at Gmail the dots and any +tag removed from the local part (at other
// domains the +tag only with StripPlusTags). It answers "" when s is not an address
// (no "@", an empty local part or domain, longer than MaxEmailBytes).
func NormalizeEmail(s string, opt EmailOptions) string {
	local, domain, ok := splitEmail(s)
	if !ok {
		return ""
	}
	if gmailDomains[domain] {
		domain = "gmail.com"
		local = stripTag(local)
		local = strings.ReplaceAll(local, ".", "")
	} else if opt.StripPlusTags {
		local = stripTag(local)
	}
	// White space next to the "@" or left by the removals is not part of
	// the mailbox (and would not survive normalising again).
	local = strings.TrimSpace(local)
	if local == "" {
		return ""
	}
	return local + "@" + domain
}

// EmailLocalPart is the local part of the normalised address ("" when s is
// not an address).
func EmailLocalPart(s string, opt EmailOptions) string {
	n := NormalizeEmail(s, opt)
	if i := strings.LastIndexByte(n, '@'); i >= 0 {
		return n[:i]
	}
	return ""
}

// splitEmail lower-cases s and splits it at its last "@" (a quoted local
// part may contain others).
func splitEmail(s string) (local, domain string, ok bool) {
	s = strings.TrimSpace(s)
	if len(s) > MaxEmailBytes {
		return "", "", false
	}
	// Invalid bytes first become U+FFFD, so that NFC sees only characters;
	// NFC again after lower-casing, which can undo it.
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = norm.NFC.String(strings.ToLower(norm.NFC.String(s)))
	if len(s) > MaxEmailBytes { // grown by U+FFFD for invalid bytes, or by NFC
		return "", "", false
	}
	i := strings.LastIndexByte(s, '@')
	if i <= 0 {
		return "", "", false
	}
	local, domain = s[:i], strings.TrimSpace(strings.TrimRightFunc(s[i+1:], func(r rune) bool { return r == '.' || unicode.IsSpace(r) }))
	if domain == "" {
		return "", "", false
	}
	return local, domain, true
}

func stripTag(local string) string {
	if i := strings.IndexByte(local, '+'); i >= 0 {
		return local[:i]
	}
	return local
}

// EmailLevel is how closely two e-mail addresses agree, strongest first in
// the order listed (EmailMissing says nothing either way).
type EmailLevel int

const (
	EmailMissing    EmailLevel = iota // either side is empty or not an address
	EmailExact                        // identical as typed (outer white space aside)
	EmailNormalised                   // identical after NormalizeEmail
	EmailSameLocal                    // same normalised local part at another domain
	EmailLocalJW                      // local parts Jaro-Winkler ≥ EmailLocalJWMin
	EmailDifferent                    // none of the above
)

// EmailLocalJWMin is the Jaro-Winkler similarity of local parts at which two
// addresses count as close (j.smith / jsmith1 but not j.smith / k.jones).
const EmailLocalJWMin = 0.88

var emailLevelNames = [...]string{
	EmailMissing: "missing", EmailExact: "exact", EmailNormalised: "normalised",
	EmailSameLocal: "same_local_part", EmailLocalJW: "local_part_jw", EmailDifferent: "different",
}

// String is the level's stable name, as explanations and settings spell it.
func (l EmailLevel) String() string { return levelName(l, emailLevelNames[:]) }

// EmailComparison is the level of a pair of addresses and the Jaro-Winkler
// similarity of their normalised local parts (0 when missing).
type EmailComparison struct {
	Level      EmailLevel
	Similarity float64
}

// CompareEmails is the level at which two addresses agree: the first of the
// EmailLevel constants that holds.
func CompareEmails(a, b string, opt EmailOptions) EmailComparison {
	na, nb := NormalizeEmail(a, opt), NormalizeEmail(b, opt)
	if na == "" || nb == "" {
		return EmailComparison{Level: EmailMissing}
	}
	if strings.TrimSpace(a) == strings.TrimSpace(b) {
		return EmailComparison{Level: EmailExact, Similarity: 1}
	}
	if na == nb {
		return EmailComparison{Level: EmailNormalised, Similarity: 1}
	}
	la, lb := na[:strings.LastIndexByte(na, '@')], nb[:strings.LastIndexByte(nb, '@')]
	if la == lb {
		return EmailComparison{Level: EmailSameLocal, Similarity: 1}
	}
	sim := JaroWinkler(la, lb)
	if sim >= EmailLocalJWMin {
		return EmailComparison{Level: EmailLocalJW, Similarity: sim}
	}
	return EmailComparison{Level: EmailDifferent, Similarity: sim}
}
