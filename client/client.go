// Package client calls a running usermerge server's JSON API (/api/v1) with
// an API token. Its methods have the merge engine's signatures and return
// the same domain types and errors, so that the command line runs the same
// commands against a server (--server) as against a database file.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"usermerge"
	"usermerge/engine"
	"usermerge/store"
)

// Unavailable is the code of the client's own errors: the server could not
// be reached, or answered something that is not the usermerge API. It is
// not a domain code, so the message (which names the server) is shown.
const Unavailable = usermerge.Unavailable

// The server answers at most this many accounts per search request.
const maxSearchPage = 500

// Client calls one server as the administrator its token belongs to.
type Client struct {
	base  string
	token string
	hc    *http.Client
}

// New returns a client of the server at baseURL (e.g. http://127.0.0.1:8080)
// sending token as "Authorization: Bearer <token>"; hc nil means a client
// without a time limit (exports and imports may take long).
func New(baseURL, token string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, hc: hc}
}

// The caller's Tenant picks the path; its Admin is not sent: the server
// acts as the token's administrator.
func (c *Client) tenantPath(caller engine.Caller, path string) (string, error) {
	if caller.Tenant == "" {
		return "", usermerge.Errorf(usermerge.Invalid, "tenant_required", "name the tenant: the server's API is per tenant")
	}
	return "/api/v1/tenants/" + url.PathEscape(caller.Tenant) + path, nil
}

// do sends one request to path (under the server's base URL).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body io.Reader, ctype string) (*http.Response, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, &usermerge.Error{Code: Unavailable, Reason: "bad_server_url",
			Message: fmt.Sprintf("cannot call the server at %s: %v", c.base, err), Err: err}
	}
	return c.send(ctx, req, ctype)
}

// send sends req with the token and content type and returns the response
// when its status is 2xx; otherwise the server's error as a
// *usermerge.Error, or one of Unavailable when there is no answer.
func (c *Client) send(ctx context.Context, req *http.Request, ctype string) (*http.Response, error) {
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, &usermerge.Error{Code: Unavailable, Reason: "interrupted",
				Message: fmt.Sprintf("the call to the server at %s was interrupted: %v", c.base, ctx.Err()), Err: err}
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the message already
		}
		return nil, &usermerge.Error{Code: Unavailable, Reason: "unreachable",
			Message: fmt.Sprintf("cannot reach the server at %s: %v", c.base, err), Err: err}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, c.errorOf(resp)
}

// errorOf turns an error answer {"error":{code,reason,message}} back into
// the domain error the server started from.
func (c *Client) errorOf(resp *http.Response) error {
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Reason  string `json:"reason"`
			Message string `json:"message"`
			// Problems lists each bad row of a refused batch.
			Problems []usermerge.RowProblem `json:"problems"`
			Rows     int                    `json:"rows"`
		} `json:"error"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err := json.Unmarshal(b, &body); err != nil || body.Error.Message == "" {
		return &usermerge.Error{Code: Unavailable, Reason: "bad_answer",
			Message: fmt.Sprintf("the server at %s answered %q, which is not a usermerge API answer; is it a usermerge server?", c.base, resp.Status)}
	}
	e := &usermerge.Error{Code: codeOf(body.Error.Code, resp.StatusCode), Reason: body.Error.Reason, Message: body.Error.Message}
	if len(body.Error.Problems) > 0 {
		// A batch refused whole: the surfaces list each row, as locally.
		e.Err = &usermerge.BatchProblems{Rows: body.Error.Rows, Problems: body.Error.Problems}
	}
	if e.Code == usermerge.Internal {
		// Only the server's log knows more; say where to look.
		e.Err = fmt.Errorf("the server at %s answered %q; its log has the detail", c.base, resp.Status)
	}
	return e
}

// codeOf maps the answer's code back to a domain code: the code itself when
// it is one, else by HTTP status (the server's malformed-request code
// "bad_request" is invalid input on the command line).
func codeOf(code string, status int) usermerge.Code {
	switch c := usermerge.Code(code); c {
	case usermerge.Invalid, usermerge.NotFound, usermerge.Conflict, usermerge.Forbidden,
		usermerge.Unauthenticated, usermerge.RateLimited, usermerge.Unavailable, usermerge.Internal:
		return c
	}
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return usermerge.Invalid
	case http.StatusUnauthorized:
		return usermerge.Unauthenticated
	case http.StatusForbidden:
		return usermerge.Forbidden
	case http.StatusNotFound:
		return usermerge.NotFound
	case http.StatusConflict:
		return usermerge.Conflict
	case http.StatusTooManyRequests:
		return usermerge.RateLimited
	case http.StatusServiceUnavailable:
		return usermerge.Unavailable
	}
	return usermerge.Internal
}

// call sends in (if not nil) as JSON and decodes the answer into out (if
// not nil).
func (c *Client) call(ctx context.Context, caller engine.Caller, method, path string, query url.Values, in, out any) error {
	p, err := c.tenantPath(caller, path)
	if err != nil {
		return err
	}
	var body io.Reader
	ctype := ""
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return usermerge.InternalError(fmt.Errorf("encode %s %s: %w", method, path, err))
		}
		body, ctype = bytes.NewReader(b), "application/json"
	}
	resp, err := c.do(ctx, method, p, query, body, ctype)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		io.Copy(io.Discard, resp.Body) // let the connection be reused
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return &usermerge.Error{Code: Unavailable, Reason: "bad_answer",
			Message: fmt.Sprintf("the server at %s sent an answer to %s %s that cannot be read: %v", c.base, method, path, err), Err: err}
	}
	return nil
}

func accountPath(ref, rest string) string { return "/accounts/" + url.PathEscape(ref) + rest }

// SearchAccounts is engine.Engine.SearchAccounts. The server answers at most
// 500 accounts a request; a larger limit is fetched in pages (a limit of 0
// or less: the server's default page).
func (c *Client) SearchAccounts(ctx context.Context, caller engine.Caller, q string, status string, limit, offset int) ([]usermerge.AccountSummary, error) {
	all := []usermerge.AccountSummary{} // as the engine: an empty list, not null
	for {
		query := url.Values{}
		n := min(limit-len(all), maxSearchPage)
		if limit > 0 {
			query.Set("limit", strconv.Itoa(n))
		}
		if off := offset + len(all); off > 0 {
			query.Set("offset", strconv.Itoa(off))
		}
		if q != "" {
			query.Set("q", q)
		}
		if status != "" {
			query.Set("status", status)
		}
		var out struct {
			Accounts []usermerge.AccountSummary `json:"accounts"`
		}
		if err := c.call(ctx, caller, "GET", "/accounts", query, nil, &out); err != nil {
			return nil, err
		}
		all = append(all, out.Accounts...)
		if limit <= 0 || len(out.Accounts) < n || len(all) >= limit {
			return all, nil
		}
	}
}

// AccountInfo is engine.Engine.AccountInfo.
func (c *Client) AccountInfo(ctx context.Context, caller engine.Caller, ref string) (usermerge.AccountSummary, error) {
	var out usermerge.AccountSummary
	err := c.call(ctx, caller, "GET", accountPath(ref, ""), nil, nil, &out)
	return out, err
}

// Activate is engine.Engine.Activate.
func (c *Client) Activate(ctx context.Context, caller engine.Caller, ref string) (usermerge.Account, error) {
	var out usermerge.Account
	err := c.call(ctx, caller, "POST", accountPath(ref, "/activate"), nil, nil, &out)
	return out, err
}

// Deactivate is engine.Engine.Deactivate.
func (c *Client) Deactivate(ctx context.Context, caller engine.Caller, ref string) (usermerge.Account, error) {
	var out usermerge.Account
	err := c.call(ctx, caller, "POST", accountPath(ref, "/deactivate"), nil, nil, &out)
	return out, err
}

// DeletionImpact is engine.Engine.DeletionImpact.
func (c *Client) DeletionImpact(ctx context.Context, caller engine.Caller, ref string) (engine.DeleteImpact, error) {
	var out engine.DeleteImpact
	err := c.call(ctx, caller, "GET", accountPath(ref, "/deletion"), nil, nil, &out)
	return out, err
}

// Delete is engine.Engine.Delete.
func (c *Client) Delete(ctx context.Context, caller engine.Caller, ref string, confirm bool) (engine.DeleteImpact, error) {
	var out engine.DeleteImpact
	err := c.call(ctx, caller, "DELETE", accountPath(ref, ""), url.Values{"confirm": {strconv.FormatBool(confirm)}}, nil, &out)
	return out, err
}

// Preview is engine.Engine.Preview; the request's TenantID is the caller's.
func (c *Client) Preview(ctx context.Context, caller engine.Caller, req usermerge.MergeRequest) (usermerge.Preview, error) {
	var out usermerge.Preview
	err := c.call(ctx, caller, "POST", "/merges/preview", nil, req, &out)
	return out, err
}

// Merge is engine.Engine.Merge; the request's TenantID is the caller's.
func (c *Client) Merge(ctx context.Context, caller engine.Caller, req usermerge.MergeRequest) ([]usermerge.Merge, error) {
	var out struct {
		Merges []usermerge.Merge `json:"merges"`
	}
	err := c.call(ctx, caller, "POST", "/merges", nil, req, &out)
	return out.Merges, err
}

// ListMerges is engine.Engine.ListMerges.
func (c *Client) ListMerges(ctx context.Context, caller engine.Caller, f usermerge.MergeFilter) (usermerge.MergePage, error) {
	q := url.Values{}
	if f.From != nil {
		q.Set("from", f.From.Format(time.RFC3339Nano))
	}
	if f.To != nil {
		q.Set("to", f.To.Format(time.RFC3339Nano))
	}
	for name, v := range map[string]string{"source": f.Source, "target": f.Target, "state": string(f.State)} {
		if v != "" {
			q.Set(name, v)
		}
	}
	if f.Operation > 0 {
		q.Set("operation", strconv.FormatInt(f.Operation, 10))
	}
	if f.Batch > 0 {
		q.Set("batch", strconv.FormatInt(f.Batch, 10))
	}
	if f.Page > 0 {
		q.Set("page", strconv.Itoa(f.Page))
	}
	if f.PerPage > 0 {
		q.Set("per_page", strconv.Itoa(f.PerPage))
	}
	var out usermerge.MergePage
	err := c.call(ctx, caller, "GET", "/merges", q, nil, &out)
	return out, err
}

// MergeDetails is engine.Engine.MergeDetails.
func (c *Client) MergeDetails(ctx context.Context, caller engine.Caller, id int64, limit int) (usermerge.MergeDetails, error) {
	return c.MergeDetailsPage(ctx, caller, id, usermerge.DetailsPage{Limit: limit})
}

// MergeDetailsPage is engine.Engine.MergeDetailsPage.
func (c *Client) MergeDetailsPage(ctx context.Context, caller engine.Caller, id int64, pg usermerge.DetailsPage) (usermerge.MergeDetails, error) {
	q := url.Values{"limit": {strconv.Itoa(pg.Limit)}}
	if pg.Kind != "" {
		q.Set("kind", string(pg.Kind))
	}
	if pg.Offset != 0 {
		q.Set("offset", strconv.Itoa(pg.Offset))
	}
	var out usermerge.MergeDetails
	err := c.call(ctx, caller, "GET", "/merges/"+strconv.FormatInt(id, 10), q, nil, &out)
	return out, err
}

// Revert is engine.Engine.Revert.
func (c *Client) Revert(ctx context.Context, caller engine.Caller, ids []int64) (usermerge.RevertReport, error) {
	var out usermerge.RevertReport
	err := c.call(ctx, caller, "POST", "/merges/revert", nil, map[string][]int64{"merges": ids}, &out)
	return out, err
}

// settingsAnswer is the part of the server's settings answer that makes
// the tenant; the rest (presets, help) the caller has in the domain.
type settingsAnswer struct {
	Tenant string           `json:"tenant"`
	Name   string           `json:"name"`
	Policy usermerge.Policy `json:"policy"`
}

func (a settingsAnswer) tenant() usermerge.Tenant {
	return usermerge.Tenant{ID: a.Tenant, Name: a.Name, Policy: a.Policy}
}

// Settings is engine.Engine.Settings.
func (c *Client) Settings(ctx context.Context, caller engine.Caller) (usermerge.Tenant, error) {
	var out settingsAnswer
	err := c.call(ctx, caller, "GET", "/settings", nil, nil, &out)
	return out.tenant(), err
}

// UpdateSettings is engine.Engine.UpdateSettings.
func (c *Client) UpdateSettings(ctx context.Context, caller engine.Caller, ch engine.SettingsChange) (usermerge.Tenant, error) {
	var out settingsAnswer
	err := c.call(ctx, caller, "PUT", "/settings", nil, ch, &out)
	return out.tenant(), err
}

// CreateToken is engine.Engine.CreateToken. The client authenticates with
// an API token, and the server lets no token create tokens, so this
// answers Forbidden (token_cannot_create_tokens): tokens are made by a
// signed-in person or on the command line on the database.
func (c *Client) CreateToken(ctx context.Context, caller engine.Caller, name string, expires *time.Time) (string, store.Token, error) {
	var out struct {
		Token string      `json:"token"`
		Info  store.Token `json:"info"`
	}
	body := struct {
		Name      string     `json:"name"`
		ExpiresAt *time.Time `json:"expires_at,omitempty"`
	}{name, expires}
	err := c.call(ctx, caller, "POST", "/tokens", nil, body, &out)
	return out.Token, out.Info, err
}

// Tokens is engine.Engine.Tokens.
func (c *Client) Tokens(ctx context.Context, caller engine.Caller) ([]store.Token, error) {
	var out struct {
		Tokens []store.Token `json:"tokens"`
	}
	err := c.call(ctx, caller, "GET", "/tokens", nil, nil, &out)
	return out.Tokens, err
}

// RevokeToken is engine.Engine.RevokeToken.
func (c *Client) RevokeToken(ctx context.Context, caller engine.Caller, id string) error {
	return c.call(ctx, caller, "DELETE", "/tokens/"+url.PathEscape(id), nil, nil, nil)
}

// Export is engine.Engine.Export: the answer streams into w as it arrives.
// A refusal comes before any data. The server cannot report a failure
// after the data started other than by ending early; since every export
// line ends with a newline, data that ends without one is reported as cut
// short (the caller must not take what was written as complete).
func (c *Client) Export(ctx context.Context, caller engine.Caller, w io.Writer, account, format string) error {
	p, err := c.tenantPath(caller, "/export")
	if err != nil {
		return err
	}
	q := url.Values{}
	if account != "" {
		q.Set("account", account)
	}
	if format != "" {
		q.Set("format", format)
	}
	return c.download(ctx, p, q, w, "export")
}

// download streams a GET answer into w. A refusal comes before any data;
// since every line of a download ends with a newline, an answer broken
// off, or ending in the middle of a line, is reported as cut short
// (reason what+"_cut_short"): what was written is incomplete.
func (c *Client) download(ctx context.Context, p string, q url.Values, w io.Writer, what string) error {
	resp, err := c.do(ctx, "GET", p, q, nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	lw := &lastByteWriter{w: w}
	if _, err := io.Copy(lw, resp.Body); err != nil {
		if lw.werr != nil {
			return lw.werr
		}
		return &usermerge.Error{Code: Unavailable, Reason: what + "_cut_short",
			Message: fmt.Sprintf("the %s from the server at %s broke off: %v; the output is incomplete", what, c.base, err), Err: err}
	}
	if lw.n > 0 && lw.last != '\n' {
		return &usermerge.Error{Code: Unavailable, Reason: what + "_cut_short",
			Message: fmt.Sprintf("the %s from the server at %s ended in the middle of a line (the server's log says why); the output is incomplete", what, c.base)}
	}
	return nil
}

// lastByteWriter remembers the last byte written and the writer's own
// error, to tell it from a broken download.
type lastByteWriter struct {
	w    io.Writer
	n    int64
	last byte
	werr error
}

func (l *lastByteWriter) Write(b []byte) (int, error) {
	n, err := l.w.Write(b)
	if n > 0 {
		l.n += int64(n)
		l.last = b[n-1]
	}
	if err != nil {
		l.werr = err
	}
	return n, err
}

// Import is engine.Engine.Import: r streams to the server as it is read.
// The request asks the server to confirm (Expect: 100-continue) before the
// data goes out, so that a refused import (a bad token, no right) is
// answered with the refusal rather than a broken upload.
func (c *Client) Import(ctx context.Context, caller engine.Caller, r io.Reader, format string) (store.ImportStats, error) {
	var stats store.ImportStats
	p, err := c.tenantPath(caller, "/import")
	if err != nil {
		return stats, err
	}
	ctype := "application/x-ndjson"
	switch format {
	case "", "ndjson":
	case "csv":
		ctype = "text/csv; charset=utf-8"
	default:
		return stats, usermerge.Errorf(usermerge.Invalid, "invalid_format", "format must be ndjson or csv, not %q", format)
	}
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+p, io.NopCloser(r))
	if err != nil {
		return stats, &usermerge.Error{Code: Unavailable, Reason: "bad_server_url",
			Message: fmt.Sprintf("cannot call the server at %s: %v", c.base, err), Err: err}
	}
	req.Header.Set("Expect", "100-continue")
	resp, err := c.send(ctx, req, ctype)
	if err != nil {
		return stats, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&stats); err != nil {
		return stats, &usermerge.Error{Code: Unavailable, Reason: "bad_answer",
			Message: fmt.Sprintf("the server at %s sent an answer to the import that cannot be read: %v", c.base, err), Err: err}
	}
	return stats, nil
}
