package engine

import (
	"context"

	"usermerge"
	"usermerge/store"
)

// Rights is what a caller may do in a tenant, so that an interface can show
// only the controls the caller may use. It grants nothing: every operation
// checks the caller again.
type Rights struct {
	Tenant      usermerge.Tenant
	Admin       usermerge.Admin
	TenantAdmin bool // the whole tenant, including its settings
	MergeEdit   bool // may preview, merge, revert and change accounts (within scope)
}

// Rights returns the caller's rights in the caller's tenant.
func (e *Engine) Rights(ctx context.Context, c Caller) (Rights, error) {
	var r Rights
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		r = Rights{Tenant: a.tenant, Admin: a.admin, TenantAdmin: a.all, MergeEdit: a.canEdit()}
		return nil
	})
	return r, err
}
