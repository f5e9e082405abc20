package engine

import (
	"context"
	"slices"

	"usermerge"
	"usermerge/store"
)

// The events of PRODUCT.md §13: the payloads the engine writes to the
// outbox inside the transaction of the change, and the pull feed that
// serves them in commit order. docs/events.md documents each payload.

// accountRef names an account with its live external IDs, read now.
func accountRef(ctx context.Context, tx *store.Tx, tenant string, acc usermerge.Account) (usermerge.AccountRef, error) {
	ext, err := tx.ExternalIDsOf(ctx, tenant, acc.ID)
	return usermerge.AccountRef{ID: acc.ID, Login: acc.Login, ExternalIDs: ext}, err
}

// mergeEvent is the data of a merge.completed event; before holds each
// source's external IDs as they were before the merge.
func mergeEvent(ctx context.Context, tx *store.Tx, a *actor, ms []usermerge.Merge, before [][]usermerge.ExternalID, reason string) (usermerge.MergeCompletedData, error) {
	d := usermerge.MergeCompletedData{Tenant: a.tenant.ID, By: a.admin.Login, At: tx.Now, Reason: reason, DataMoved: true,
		Merged: []usermerge.MergedSource{}, Merges: []usermerge.MergeBrief{}}
	if len(ms) == 0 {
		return d, nil
	}
	d.Operation, d.Batch = ms[0].OperationID, ms[0].Batch
	kept, err := accountRef(ctx, tx, a.tenant.ID, ms[0].Target)
	if err != nil {
		return d, err
	}
	d.Kept = kept
	for i, m := range ms {
		ext := before[i]
		if ext == nil {
			ext = []usermerge.ExternalID{}
		}
		d.Merged = append(d.Merged, usermerge.MergedSource{Merge: m.ID, ExternalIDsMoved: m.MoveExternalIDs, Counts: m.Counts,
			Account: usermerge.AccountRef{ID: m.Source.ID, Login: m.Source.Login, ExternalIDs: ext}})
		d.Merges = append(d.Merges, usermerge.MergeBrief{Merge: m.ID, Operation: m.OperationID, Batch: m.Batch, Source: m.Source.ID, Target: m.Target.ID})
	}
	return d, nil
}

// revertEvent is the data of a merge.reverted event, read after the
// reverts, so that each account shows the external IDs it holds again.
func revertEvent(ctx context.Context, tx *store.Tx, a *actor, merges []usermerge.Merge, reverted []int64, batch int64) (usermerge.MergeRevertedData, error) {
	d := usermerge.MergeRevertedData{Tenant: a.tenant.ID, Batch: batch, By: a.admin.Login, At: tx.Now, Merges: reverted,
		Restored: []usermerge.RevertedSource{}}
	if d.Merges == nil {
		d.Merges = []int64{}
	}
	for _, m := range merges {
		if !slices.Contains(reverted, m.ID) {
			continue
		}
		src, err := accountRef(ctx, tx, a.tenant.ID, m.Source)
		if err != nil {
			return d, err
		}
		from, err := accountRef(ctx, tx, a.tenant.ID, m.Target)
		if err != nil {
			return d, err
		}
		d.Restored = append(d.Restored, usermerge.RevertedSource{Merge: m.ID, Account: src, From: from})
	}
	return d, nil
}

// feedTypes are the event types the feed serves: those of EventTypes.
// Internal events (settings changed, suggestions dismissed) stay in the
// outbox for audit.
var feedTypes = usermerge.EventTypes

// Events answers the tenant's feed after a cursor, in commit order. Only
// tenant administrators read it: it speaks of the whole tenant.
func (e *Engine) Events(ctx context.Context, c Caller, f usermerge.EventFilter) (usermerge.EventPage, error) {
	page := usermerge.EventPage{Events: []usermerge.Event{}, Next: f.After}
	if f.Limit == 0 {
		f.Limit = 100
	}
	if f.Limit < 1 || f.Limit > 1000 {
		return page, usermerge.Errorf(usermerge.Invalid, "bad_limit", "limit must be from 1 to 1000, not %d", f.Limit)
	}
	if f.After < 0 {
		return page, usermerge.Errorf(usermerge.Invalid, "bad_cursor", "the cursor must be an event id, 0 or more, not %d", f.After)
	}
	types := feedTypes
	if len(f.Types) > 0 {
		for _, t := range f.Types {
			if !slices.Contains(feedTypes, t) {
				return page, usermerge.Errorf(usermerge.Invalid, "unknown_event_type", "there is no event type %q in the feed; the types are %s",
					t, usermerge.JoinWords(feedTypes))
			}
		}
		types = f.Types
	}
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		if !a.all {
			return usermerge.Errorf(usermerge.Forbidden, "tenant_admin_only", "only a tenant administrator may read the tenant's events")
		}
		list, err := tx.EventsOf(ctx, a.tenant.ID, f.After, types, f.Limit+1)
		if err != nil {
			return err
		}
		page.More = len(list) > f.Limit
		if page.More {
			list = list[:f.Limit]
		}
		for _, ev := range list {
			page.Events = append(page.Events, envelope(ev))
			page.Next = ev.ID
		}
		return nil
	})
	return page, err
}

// envelope is a stored event as the feed and the webhooks carry it.
func envelope(ev store.Event) usermerge.Event {
	return usermerge.Event{ID: ev.ID, Type: ev.Type, Version: usermerge.EventVersion, At: ev.At, Data: ev.Payload}
}
