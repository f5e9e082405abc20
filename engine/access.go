package engine

import (
	"context"
	"strings"

	"usermerge"
	"usermerge/store"
)

// actor is a resolved caller: the admin, the tenant, and the groups (with
// their subgroups) over which the admin holds edit and view rights.
type actor struct {
	admin  usermerge.Admin
	tenant usermerge.Tenant
	all    bool            // tenant administrator: the whole tenant
	edit   map[string]bool // groups with edit right
	view   map[string]bool // groups with view or edit right
	// known and groupsOf, filled by prefetch for a batch check, answer
	// account and inScope without a query per account.
	known    map[string]usermerge.Account // reference as given → account
	groupsOf map[string][]string          // account id → its group ids
}

// prefetch resolves many references with a few set queries, and the
// groups of the accounts found, so that the account lookups of a batch
// check that follow hit memory. A reference not found is not remembered:
// its lookup asks the database again and answers as for one account.
func (a *actor) prefetch(ctx context.Context, tx *store.Tx, refs []string) error {
	known, err := tx.AccountsByRefs(ctx, a.tenant.ID, refs)
	if err != nil {
		return err
	}
	a.known = known
	if a.all {
		return nil
	}
	ids := make([]string, 0, len(known))
	seen := map[string]bool{}
	for _, acc := range known {
		if !seen[acc.ID] {
			seen[acc.ID] = true
			ids = append(ids, acc.ID)
		}
	}
	a.groupsOf, err = tx.GroupIDsOfAccounts(ctx, a.tenant.ID, ids)
	return err
}

func loadActor(ctx context.Context, tx *store.Tx, c Caller) (*actor, error) {
	if c.Tenant == "" {
		return nil, usermerge.Errorf(usermerge.Invalid, "tenant_required", "no tenant given")
	}
	t, err := tx.Tenant(ctx, c.Tenant)
	if err != nil {
		return nil, err
	}
	adm, _, err := tx.AdminByLogin(ctx, c.Tenant, c.Admin)
	if err != nil {
		if usermerge.ErrorCode(err) == usermerge.NotFound {
			return nil, usermerge.Errorf(usermerge.Forbidden, "unknown_admin", "%q is not an administrator of tenant %q", c.Admin, c.Tenant)
		}
		return nil, err
	}
	a := &actor{admin: adm, tenant: t, all: adm.Role == usermerge.TenantAdmin, edit: map[string]bool{}, view: map[string]bool{}}
	if a.all {
		return a, nil
	}
	groups, err := tx.Groups(ctx, c.Tenant)
	if err != nil {
		return nil, err
	}
	children := map[string][]string{}
	for _, g := range groups {
		children[g.ParentID] = append(children[g.ParentID], g.ID)
	}
	var grant func(set map[string]bool, id string)
	grant = func(set map[string]bool, id string) {
		if set[id] {
			return // also guards against cycles in imported trees
		}
		set[id] = true
		for _, c := range children[id] {
			grant(set, c)
		}
	}
	for _, s := range adm.Scopes {
		grant(a.view, s.GroupID)
		if s.Right == usermerge.RightEdit {
			grant(a.edit, s.GroupID)
		}
	}
	return a, nil
}

// canEdit reports whether the admin holds merge-edit rights anywhere.
func (a *actor) canEdit() bool { return a.all || len(a.edit) > 0 }

// viewGroups returns nil for "everything" or the list of visible groups.
func (a *actor) viewGroups() []string {
	if a.all {
		return nil
	}
	out := make([]string, 0, len(a.view))
	for g := range a.view {
		out = append(out, g)
	}
	return out
}

// editGroups returns nil for "everything" or the list of editable groups.
func (a *actor) editGroups() []string {
	if a.all {
		return nil
	}
	out := make([]string, 0, len(a.edit))
	for g := range a.edit {
		out = append(out, g)
	}
	return out
}

func (a *actor) requireEdit() error {
	if !a.canEdit() {
		return usermerge.Errorf(usermerge.Forbidden, "no_merge_permission",
			"%s has view rights only: merging, reverting and changing accounts need the merge-edit right", a.admin.Login)
	}
	return nil
}

// inScope reports whether an account belongs to a group in the given set.
func inScope(ctx context.Context, tx *store.Tx, a *actor, account string, set map[string]bool) (bool, error) {
	if a.all {
		return true, nil
	}
	groups, ok := a.groupsOf[account]
	if !ok {
		var err error
		if groups, err = tx.GroupIDsOf(ctx, a.tenant.ID, account); err != nil {
			return false, err
		}
	}
	for _, g := range groups {
		if set[g] {
			return true, nil
		}
	}
	return false, nil
}

// lookup finds an account by id, then login, then external ID written
// system:value (one live holder only, store.ExternalIDHolder).
func (a *actor) lookup(ctx context.Context, tx *store.Tx, ref string) (usermerge.Account, error) {
	if acc, ok := a.known[ref]; ok {
		return acc, nil
	}
	acc, err := tx.AccountByRef(ctx, a.tenant.ID, ref)
	if usermerge.ErrorCode(err) != usermerge.NotFound {
		return acc, err
	}
	clean, cerr := usermerge.CleanID("account", ref)
	system, value, ok := strings.Cut(clean, ":")
	if cerr != nil || !ok || system == "" || value == "" {
		return acc, err
	}
	held, herr := tx.ExternalIDHolder(ctx, a.tenant.ID, system, value)
	if usermerge.ErrorCode(herr) == usermerge.NotFound {
		return acc, err
	}
	return held, herr
}

// account loads an account named by id, login or external ID that the caller may see,
// and with edit=true, may change. An account outside the caller's view is
// answered exactly as one that does not exist (PRODUCT.md §8); one the
// caller sees but may not edit is refused as out of scope.
func (a *actor) account(ctx context.Context, tx *store.Tx, ref string, edit bool) (usermerge.Account, error) {
	if ref == "" {
		return usermerge.Account{}, usermerge.Errorf(usermerge.Invalid, "account_required", "no account given")
	}
	acc, err := a.lookup(ctx, tx, ref)
	if err != nil {
		return acc, err
	}
	ok, err := inScope(ctx, tx, a, acc.ID, a.view)
	if err != nil {
		return acc, err
	}
	if !ok { // out of scope reads as not there
		return usermerge.Account{}, store.AccountNotFound(ref)
	}
	if edit {
		if err := a.requireEdit(); err != nil {
			return acc, err
		}
		if ok, err = inScope(ctx, tx, a, acc.ID, a.edit); err != nil {
			return acc, err
		} else if !ok {
			return acc, usermerge.Errorf(usermerge.Forbidden, "out_of_scope",
				"account %s (%s) is outside the groups %s may edit", acc.Login, acc.Name, a.admin.Login)
		}
	}
	return acc, nil
}

// redact hides from a group manager the account an account was merged
// into, and the merge, when that account is outside the manager's groups
// (PRODUCT.md §8: nothing outside their scope is named).
func (a *actor) redact(ctx context.Context, tx *store.Tx, acc usermerge.Account) (usermerge.Account, error) {
	if a.all || acc.MergedInto == "" {
		return acc, nil
	}
	ok, err := inScope(ctx, tx, a, acc.MergedInto, a.view)
	if err == nil && !ok {
		acc.MergedInto, acc.MergedBy = "", 0
	}
	return acc, err
}
