package client

import (
	"context"
	"io"
	"net/url"
	"strconv"

	"usermerge"
	"usermerge/engine"
)

// The bulk-merge calls (PRODUCT.md §12), with the engine's signatures. A
// batch's rows go to the server as JSON ({"rows": [...]}), each with the
// line of the file it came from, so that the server's refusals name the
// same lines the file has.

func batchPath(id int64, rest string) string {
	return "/batches/" + strconv.FormatInt(id, 10) + rest
}

type rowsBody struct {
	Rows []usermerge.BatchRow `json:"rows"`
}

// CheckBatch is engine.Engine.CheckBatch.
func (c *Client) CheckBatch(ctx context.Context, caller engine.Caller, rows []usermerge.BatchRow) ([]usermerge.BatchRowResult, error) {
	var out struct {
		Rows []usermerge.BatchRowResult `json:"rows"`
	}
	err := c.call(ctx, caller, "POST", "/batches/check", nil, rowsBody{rows}, &out)
	return out.Rows, err
}

// DryRunBatch is engine.Engine.DryRunBatch.
func (c *Client) DryRunBatch(ctx context.Context, caller engine.Caller, rows []usermerge.BatchRow) (usermerge.BatchPlan, error) {
	var out usermerge.BatchPlan
	err := c.call(ctx, caller, "POST", "/batches/dry-run", nil, rowsBody{rows}, &out)
	return out, err
}

// CreateBatch is engine.Engine.CreateBatch: the batch is stored ready.
func (c *Client) CreateBatch(ctx context.Context, caller engine.Caller, name string, rows []usermerge.BatchRow) (usermerge.Batch, error) {
	var out usermerge.Batch
	q := url.Values{}
	if name != "" {
		q.Set("name", name)
	}
	err := c.call(ctx, caller, "POST", "/batches", q, rowsBody{rows}, &out)
	return out, err
}

// BatchFromSuggestions makes a batch (ready) of a selection of duplicate
// suggestions: the engine's SuggestionRows and CreateBatch in one call.
func (c *Client) BatchFromSuggestions(ctx context.Context, caller engine.Caller, sel usermerge.SuggestionSelection) (usermerge.Batch, error) {
	var out usermerge.Batch
	err := c.call(ctx, caller, "POST", "/batches/from-suggestions", nil, sel, &out)
	return out, err
}

func (c *Client) batchAction(ctx context.Context, caller engine.Caller, id int64, action string) (usermerge.Batch, error) {
	var out usermerge.Batch
	err := c.call(ctx, caller, "POST", batchPath(id, "/"+action), nil, nil, &out)
	return out, err
}

// StartBatch is engine.Engine.StartBatch: the server's worker runs it.
func (c *Client) StartBatch(ctx context.Context, caller engine.Caller, id int64) (usermerge.Batch, error) {
	return c.batchAction(ctx, caller, id, "start")
}

// PauseBatch is engine.Engine.PauseBatch.
func (c *Client) PauseBatch(ctx context.Context, caller engine.Caller, id int64) (usermerge.Batch, error) {
	return c.batchAction(ctx, caller, id, "pause")
}

// ResumeBatch is engine.Engine.ResumeBatch.
func (c *Client) ResumeBatch(ctx context.Context, caller engine.Caller, id int64) (usermerge.Batch, error) {
	return c.batchAction(ctx, caller, id, "resume")
}

// CancelBatch is engine.Engine.CancelBatch.
func (c *Client) CancelBatch(ctx context.Context, caller engine.Caller, id int64) (usermerge.Batch, error) {
	return c.batchAction(ctx, caller, id, "cancel")
}

// Batch is engine.Engine.Batch.
func (c *Client) Batch(ctx context.Context, caller engine.Caller, id int64) (usermerge.Batch, error) {
	var out usermerge.Batch
	err := c.call(ctx, caller, "GET", batchPath(id, ""), nil, nil, &out)
	return out, err
}

// Batches is engine.Engine.Batches.
func (c *Client) Batches(ctx context.Context, caller engine.Caller, limit, offset int) ([]usermerge.Batch, int, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if offset > 0 {
		q.Set("offset", strconv.Itoa(offset))
	}
	var out struct {
		Batches []usermerge.Batch `json:"batches"`
		Total   int               `json:"total"`
	}
	err := c.call(ctx, caller, "GET", "/batches", q, nil, &out)
	return out.Batches, out.Total, err
}

// BatchRows is engine.Engine.BatchRows.
func (c *Client) BatchRows(ctx context.Context, caller engine.Caller, id int64, f usermerge.BatchRowFilter) (usermerge.BatchRowPage, error) {
	q := url.Values{}
	if f.Status != "" {
		q.Set("status", string(f.Status))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.Offset > 0 {
		q.Set("offset", strconv.Itoa(f.Offset))
	}
	var out usermerge.BatchRowPage
	err := c.call(ctx, caller, "GET", batchPath(id, "/rows"), q, nil, &out)
	return out, err
}

// rowsPage is how many rows EachBatchRow asks for at a time.
const rowsPage = 500

// EachBatchRow is engine.Engine.EachBatchRow: it reads the report a page
// at a time.
func (c *Client) EachBatchRow(ctx context.Context, caller engine.Caller, id int64, fn func(usermerge.BatchRowResult) error) error {
	for off := 0; ; {
		p, err := c.BatchRows(ctx, caller, id, usermerge.BatchRowFilter{Limit: rowsPage, Offset: off})
		if err != nil {
			return err
		}
		for _, r := range p.Rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		off += len(p.Rows)
		if len(p.Rows) == 0 || off >= p.Total {
			return nil
		}
	}
}

// BatchReport streams a batch's whole report, as the server writes it
// (format "csv" or "ndjson"), into w. A report cut short (one that does
// not end with a newline) is an error: the output is incomplete.
func (c *Client) BatchReport(ctx context.Context, caller engine.Caller, id int64, format string, w io.Writer) error {
	p, err := c.tenantPath(caller, batchPath(id, "/report"))
	if err != nil {
		return err
	}
	return c.download(ctx, p, url.Values{"format": {format}}, w, "report")
}

// RevertBatch is engine.Engine.RevertBatch.
func (c *Client) RevertBatch(ctx context.Context, caller engine.Caller, id int64, partial bool) (usermerge.BatchRevert, error) {
	var out usermerge.BatchRevert
	err := c.call(ctx, caller, "POST", batchPath(id, "/revert"), nil, map[string]bool{"partial": partial}, &out)
	return out, err
}

// RevertOperation is engine.Engine.RevertOperation.
func (c *Client) RevertOperation(ctx context.Context, caller engine.Caller, op int64) (usermerge.RevertReport, error) {
	var out usermerge.RevertReport
	err := c.call(ctx, caller, "POST", "/operations/"+strconv.FormatInt(op, 10)+"/revert", nil, nil, &out)
	return out, err
}
