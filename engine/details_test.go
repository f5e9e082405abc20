package engine

import (
	"fmt"
	"slices"
	"testing"

	"usermerge"
	"usermerge/store"
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

// signinsMerged merges a source holding n sign-ins into T and returns the merge.
func signinsMerged(t *testing.T, n int) (*fixture, usermerge.Merge) {
	f := pair(t, "learningbox")
	f.tx(func(tx *store.Tx) error {
		for i := range n {
			if _, err := tx.Exec(f.ctx, `INSERT INTO signins (tenant_id, id, account_id, at, ip, client) VALUES (?, ?, ?, ?, ?, ?)`,
				f.tenant, fmt.Sprintf("si-%05d", i), "S", day(10)+int64(i), "10.0.0.1", "web"); err != nil {
				return err
			}
		}
		return nil
	})
	return f, f.merge("T", "S")[0]
}

// TestMergeDetailsPaging pages one kind's records past the first 1,000:
// each page says the kind's total and where the next page starts, the last
// page has no next, an offset past the end lists nothing, and bad pages are
// refused.
func TestMergeDetailsPaging(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		for _, n := range []int{1000, 1001} {
			f, m := signinsMerged(t, n)
			page := func(pg usermerge.DetailsPage) usermerge.KindDetails {
				t.Helper()
				d, err := f.e.MergeDetailsPage(f.ctx, f.as("admin"), m.ID, pg)
				if err != nil {
					t.Fatalf("%d sign-ins, page %+v: %v", n, pg, err)
				}
				if len(d.Kinds) != 1 || d.Kinds[0].Kind != usermerge.KindSignIns {
					t.Fatalf("page %+v of one kind lists %d kinds", pg, len(d.Kinds))
				}
				return d.Kinds[0]
			}
			ids := func(kd usermerge.KindDetails) (first, last string) {
				if len(kd.Records) == 0 {
					return "", ""
				}
				return kd.Records[0].RecordID, kd.Records[len(kd.Records)-1].RecordID
			}
			p1 := page(usermerge.DetailsPage{Kind: usermerge.KindSignIns, Limit: 1000})
			first, last := ids(p1)
			if len(p1.Records) != 1000 || p1.Total != int64(n) || p1.Offset != 0 || first != "si-00000" || last != "si-00999" {
				t.Errorf("%d sign-ins, first page: %d records %s..%s of %d at %d", n, len(p1.Records), first, last, p1.Total, p1.Offset)
			}
			switch n {
			case 1000: // exactly one page
				if p1.NextOffset != nil || p1.More != 0 {
					t.Errorf("1,000 sign-ins in pages of 1,000: next page %v, %d more", p1.NextOffset, p1.More)
				}
			case 1001:
				if p1.NextOffset == nil || *p1.NextOffset != 1000 || p1.More != 1 {
					t.Fatalf("1,001 sign-ins, first page: next %v, %d more; want the next page at 1000 with 1 more", p1.NextOffset, p1.More)
				}
				p2 := page(usermerge.DetailsPage{Kind: usermerge.KindSignIns, Limit: 1000, Offset: *p1.NextOffset})
				if first, _ := ids(p2); len(p2.Records) != 1 || first != "si-01000" || p2.NextOffset != nil || p2.More != 0 || p2.Total != 1001 || p2.Offset != 1000 {
					t.Errorf("1,001 sign-ins, last page: %d records from %s, next %v, %d more, total %d", len(p2.Records), first, p2.NextOffset, p2.More, p2.Total)
				}
				// the pages together list every record once
				seen := map[string]bool{}
				for _, r := range append(p1.Records, p2.Records...) {
					seen[r.RecordID] = true
				}
				if len(seen) != 1001 {
					t.Errorf("the two pages list %d distinct records, want 1001", len(seen))
				}
			}
			past := page(usermerge.DetailsPage{Kind: usermerge.KindSignIns, Limit: 100, Offset: 5000})
			if len(past.Records) != 0 || past.Total != int64(n) || past.NextOffset != nil || past.More != 0 || past.Records == nil {
				t.Errorf("offset past the end: %d records, total %d, next %v, more %d", len(past.Records), past.Total, past.NextOffset, past.More)
			}
			// Without a kind, every kind's first page, sign-ins with its total.
			d, err := f.e.MergeDetailsPage(f.ctx, f.as("admin"), m.ID, usermerge.DetailsPage{Limit: 10})
			if err != nil || len(d.Kinds) != len(usermerge.Kinds) {
				t.Fatalf("every kind: %d kinds, %v", len(d.Kinds), err)
			}
			for _, kd := range d.Kinds {
				if kd.Kind == usermerge.KindSignIns && (len(kd.Records) != 10 || kd.Total != int64(n) || kd.NextOffset == nil || *kd.NextOffset != 10) {
					t.Errorf("every kind, sign-ins: %d records of %d, next %v", len(kd.Records), kd.Total, kd.NextOffset)
				}
			}
		}
	})
}

func TestMergeDetailsPagingRefusesBadPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		f, m := signinsMerged(t, 3)
		for _, tc := range []struct {
			pg     usermerge.DetailsPage
			reason string
		}{
			{usermerge.DetailsPage{Limit: 0}, "invalid_limit"},
			{usermerge.DetailsPage{Limit: -1}, "invalid_limit"},
			{usermerge.DetailsPage{Limit: usermerge.MaxDetailsLimit + 1}, "invalid_limit"},
			{usermerge.DetailsPage{Kind: usermerge.KindSignIns, Limit: 10, Offset: -1}, "invalid_offset"},
			{usermerge.DetailsPage{Limit: 10, Offset: 10}, "offset_needs_kind"},
			{usermerge.DetailsPage{Kind: "nonsense", Limit: 10}, "unknown_kind"},
		} {
			_, err := f.e.MergeDetailsPage(f.ctx, f.as("admin"), m.ID, tc.pg)
			if usermerge.ErrorCode(err) != usermerge.Invalid || usermerge.ErrorReason(err) != tc.reason {
				t.Errorf("page %+v: %v, want invalid %s", tc.pg, err, tc.reason)
			}
		}
		for _, pg := range []usermerge.DetailsPage{{Limit: 1}, {Limit: usermerge.MaxDetailsLimit}, {Kind: usermerge.KindSignIns, Limit: 1, Offset: 2}} {
			if _, err := f.e.MergeDetailsPage(f.ctx, f.as("admin"), m.ID, pg); err != nil {
				t.Errorf("page %+v: %v", pg, err)
			}
		}
	})
}
