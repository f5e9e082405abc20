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
	if format != "" && format != "ndjson" && format != "csv" {
		return "", usermerge.Errorf(usermerge.Invalid, "invalid_format", "format must be ndjson or csv, not %q", format)
	}
	var accID string
	err := e.call(ctx, c, false, func(tx *store.Tx, a *actor) error {
		if account == "" || format == "csv" {
			if !a.all {
				return usermerge.Errorf(usermerge.Forbidden, "tenant_admin_only", "only a tenant administrator may export the whole tenant")
			}
			return nil
		}
		acc, err := a.account(ctx, tx, account, false)
		accID = acc.ID
		return err
	})
	return accID, err
}

// Export writes the caller's tenant or one account in its scope as NDJSON,
// or the tenant's accounts as CSV (see CheckExport for who may).
func (e *Engine) Export(ctx context.Context, c Caller, w io.Writer, account, format string) error {
	accID, err := e.CheckExport(ctx, c, account, format)
	if err != nil {
		return err
	}
	if format == "csv" {
		return e.db.ExportAccountsCSV(ctx, w, c.Tenant)
	}
	return e.db.Export(ctx, w, c.Tenant, accID)
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
