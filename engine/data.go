package engine

import (
	"context"
	"io"

	"usermerge"
	"usermerge/store"
)

// CheckExport says whether the caller may export: the whole tenant (or its
// accounts CSV) needs a tenant administrator; one account, view scope over
// it. It returns the account's id.
func (e *Engine) CheckExport(ctx context.Context, c Caller, account, format string) (string, error) {
	id, _, err := e.checkExport(ctx, c, account, format)
	return id, err
}

// checkExport is CheckExport, also returning the scope a group manager's
// export is limited to (nil for a tenant administrator).
func (e *Engine) checkExport(ctx context.Context, c Caller, account, format string) (string, *store.ExportScope, error) {
	if format != "" && format != "ndjson" && format != "csv" {
		return "", nil, usermerge.Errorf(usermerge.Invalid, "invalid_format", "format must be ndjson or csv, not %q", format)
	}
	var accID string
	var scope *store.ExportScope
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		if account == "" || format == "csv" {
			if !a.all {
				return usermerge.Errorf(usermerge.Forbidden, "tenant_admin_only", "only a tenant administrator may export the whole tenant")
			}
			return nil
		}
		acc, err := a.account(ctx, tx, account, false)
		accID = acc.ID
		if !a.all {
			scope = &store.ExportScope{Groups: a.viewGroups()}
		}
		return err
	})
	return accID, scope, err
}

// Export writes the caller's tenant or one account in its scope as NDJSON,
// or the tenant's accounts as CSV (see CheckExport for who may). Only a
// tenant administrator's export holds admin lines and their password
// hashes; a group manager's export of an account leaves out the accounts
// outside the manager's groups (store.ExportScope).
func (e *Engine) Export(ctx context.Context, c Caller, w io.Writer, account, format string) error {
	accID, scope, err := e.checkExport(ctx, c, account, format)
	if err != nil {
		return err
	}
	if format == "csv" {
		return e.db.ExportAccountsCSV(ctx, w, c.Tenant)
	}
	return e.db.ExportScoped(ctx, w, c.Tenant, accID, scope)
}

// CheckImport says whether the caller may import: only a tenant
// administrator may. The server asks before it reads an upload.
func (e *Engine) CheckImport(ctx context.Context, c Caller) error {
	return e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		if !a.all {
			return usermerge.Errorf(usermerge.Forbidden, "tenant_admin_only", "only a tenant administrator may import data")
		}
		return nil
	})
}

// Import loads NDJSON (or accounts CSV) into the caller's tenant; only a
// tenant administrator may, and no line may name another tenant.
func (e *Engine) Import(ctx context.Context, c Caller, r io.Reader, format string) (store.ImportStats, error) {
	if err := e.CheckImport(ctx, c); err != nil {
		return store.ImportStats{}, err
	}
	switch format {
	case "", "ndjson":
		return e.db.ImportTenant(ctx, r, c.Tenant)
	case "csv":
		return e.db.ImportAccountsCSV(ctx, c.Tenant, r)
	}
	return store.ImportStats{}, usermerge.Errorf(usermerge.Invalid, "invalid_format", "format must be ndjson or csv, not %q", format)
}
