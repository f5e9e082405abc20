package store

import (
	"testing"

	"usermerge/match"
)

// TestFingerprintSeesEveryComparedFact: a change to any fact the finder
// compares changes an account's fingerprint (so a changed run scores it
// again); what only chooses the account to keep does not; and moving a
// character from one field to the next is a change too.
func TestFingerprintSeesEveryComparedFact(t *testing.T) {
	base := match.Record{ID: "a1", Login: "jo", Name: "Jo Smith", Email: "jo@example.org", Given: "Jo", Family: "Smith",
		BirthDate: "1990-01-02", Phone: "+441234", EmployeeNumber: "E1", Postcode: "AB1", Created: 100,
		ExternalIDs: []match.ExternalID{{System: "hr", Value: "1"}},
		SignIns:     []match.SignInKey{{Address: "10.0.0.1", Client: "web", Period: 7}},
		Groups:      []string{"g1"}}
	fp := Fingerprint(base)
	changes := map[string]func(*match.Record){
		"id":                               func(r *match.Record) { r.ID = "a2" },
		"login":                            func(r *match.Record) { r.Login = "jo2" },
		"name":                             func(r *match.Record) { r.Name = "Jo Smyth" },
		"email":                            func(r *match.Record) { r.Email = "jo@example.com" },
		"given":                            func(r *match.Record) { r.Given = "Joe" },
		"family":                           func(r *match.Record) { r.Family = "Smyth" },
		"birth date":                       func(r *match.Record) { r.BirthDate = "1990-01-03" },
		"phone":                            func(r *match.Record) { r.Phone = "+441235" },
		"employee number":                  func(r *match.Record) { r.EmployeeNumber = "E2" },
		"postcode":                         func(r *match.Record) { r.Postcode = "AB2" },
		"created":                          func(r *match.Record) { r.Created = 101 },
		"not source":                       func(r *match.Record) { r.NotSource = true },
		"external id":                      func(r *match.Record) { r.ExternalIDs = []match.ExternalID{{System: "hr", Value: "2"}} },
		"no external id":                   func(r *match.Record) { r.ExternalIDs = nil },
		"sign-in period":                   func(r *match.Record) { r.SignIns = []match.SignInKey{{Address: "10.0.0.1", Client: "web", Period: 8}} },
		"sign-in client":                   func(r *match.Record) { r.SignIns = []match.SignInKey{{Address: "10.0.0.1", Client: "app", Period: 7}} },
		"group":                            func(r *match.Record) { r.Groups = []string{"g2"} },
		"another group":                    func(r *match.Record) { r.Groups = []string{"g1", "g2"} },
		"a character moved between fields": func(r *match.Record) { r.Given, r.Family = "JoS", "mith" },
		"a group moved into an id": func(r *match.Record) {
			r.Groups, r.ExternalIDs = nil, []match.ExternalID{{System: "hr", Value: "1"}, {System: "g1"}}
		},
	}
	for name, change := range changes {
		r := base
		change(&r)
		if Fingerprint(r) == fp {
			t.Errorf("%s changed, the fingerprint did not", name)
		}
	}
	r := base
	r.Records, r.LastSignIn, r.Active = 99, 12345, true
	if Fingerprint(r) != fp {
		t.Error("the record count, last sign-in or status changed the fingerprint; they only choose the account to keep")
	}
}
