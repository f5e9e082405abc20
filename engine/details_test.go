package engine

import (
	"slices"
	"testing"

	"usermerge"
	"usermerge/store/storetest"
)

func TestMergeDetailsListEveryKind(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f := pair(t, "learningbox")
		seedOverlaps(f, "T", "S")
		f.rec("signins", "si-S2", "S", "at", day(4), "ip", "10.0.0.2", "client", "app")
		m := f.merge("T", "S")[0]
		d, err := f.e.MergeDetails(f.ctx, f.as("admin"), m.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		byKind := map[usermerge.Kind]usermerge.KindDetails{}
		for _, k := range d.Kinds {
			byKind[k.Kind] = k
		}
		if len(byKind) != len(usermerge.Kinds) {
			t.Fatalf("details list %d kinds, want all %d", len(byKind), len(usermerge.Kinds))
		}
		has := func(k usermerge.Kind, disp usermerge.Disposition, id string) usermerge.RecordChange {
			t.Helper()
			for _, r := range byKind[k].Records {
				if slices.Contains(r.Actions, disp) && r.RecordID == id {
					return r
				}
			}
			t.Errorf("%s details lack %s record %s; have %+v", k, disp, id, byKind[k].Records)
			return usermerge.RecordChange{}
		}
		// sign-in details: both of the source's sign-ins moved
		has(usermerge.KindSignIns, usermerge.Moved, "si-S")
		has(usermerge.KindSignIns, usermerge.Moved, "si-S2")
		// badge details: the target's badge with its time before and after, the source's retired
		b := has(usermerge.KindBadges, usermerge.Combined, "ba-T")
		if acq := field(b, "acquired_at"); acq.Before == nil || acq.After == nil || *acq.Before == *acq.After || b.Other != "ba-S" {
			t.Errorf("badge change = %+v, want before/after acquisition times and the source's badge", b)
		}
		has(usermerge.KindBadges, usermerge.Retired, "ba-S")
		// score details: moved and renumbered attempts
		has(usermerge.KindAttempts, usermerge.Moved, "at-S")
		has(usermerge.KindAttempts, usermerge.Changed, "at-S") // T attempted first, so S's becomes no. 2
		// kept-one kinds name which record was kept
		q := has(usermerge.KindQuizSessions, usermerge.Combined, "qs-S")
		if q.KeptFrom != "source" || q.Other != "qs-T" {
			t.Errorf("quiz session %+v does not say it was kept from the source over qs-T", q)
		}
		has(usermerge.KindQuizSessions, usermerge.Retired, "qs-T")
		// left with the source by policy (learningbox: certificates, credits, external IDs not asked)
		has(usermerge.KindCertificates, usermerge.Left, "ce-S")
		has(usermerge.KindCredits, usermerge.Left, "cr-S")
		has(usermerge.KindExternalIDs, usermerge.Left, "ex-S")
		has(usermerge.KindMemberships, usermerge.Left, "east")
		// counts in the details are the merge's
		if c := byKind[usermerge.KindSignIns].Counts; c.Moved != 2 {
			t.Errorf("sign-in counts %+v", c)
		}
		// each record appears once: the moved and renumbered attempt too
		seen := map[string]int{}
		for _, k := range d.Kinds {
			for _, r := range k.Records {
				seen[string(k.Kind)+"/"+r.RecordID]++
			}
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("record %s listed %d times", id, n)
			}
		}
		// limit: at most limit records, the rest counted in More
		d1, err := f.e.MergeDetails(f.ctx, f.as("admin"), m.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range d1.Kinds {
			if k.Kind == usermerge.KindSignIns && (len(k.Records) != 1 || k.More != 1) {
				t.Errorf("sign-ins with limit 1: %d listed, %d more", len(k.Records), k.More)
			}
		}
	})
}

// field returns the named field of a record in merge details.
func field(r usermerge.RecordChange, name string) usermerge.FieldValue {
	for _, f := range r.Fields {
		if f.Name == name {
			return f
		}
	}
	return usermerge.FieldValue{}
}
