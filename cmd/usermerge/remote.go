package main

import (
	"context"
	"net/url"

	"usermerge"
	"usermerge/client"
	"usermerge/engine"
)

// remoteCommands are the commands that work through a server's API. The
// others (demo, serve, password, bench, and any new command until it is
// listed here) need the database itself and refuse --server.
var remoteCommands = map[string]bool{
	"accounts": true, "account": true, "activate": true, "deactivate": true, "delete": true,
	"preview": true, "merge": true, "merges": true, "show": true, "revert": true,
	"batch": true, "settings": true, "duplicates": true, "export": true, "import": true, "token": true, "help": true,
	"events": true, "resolve": true, "webhooks": true,
}

// runRemote runs the command through the server named by --server: no
// database is opened. The tenant must be named (the API's paths are per
// tenant, and the server does not list tenants to a token); the token
// decides who acts, so --as is not needed and is ignored when given.
func (m *Main) runRemote(ctx context.Context) error {
	if !remoteCommands[m.cmd.name] {
		return usageError("%s works on a database only, not through --server: run it where the database is, with --db", m.cmd.name)
	}
	if m.cmd == helpCmd {
		return m.run(ctx, m, m.args)
	}
	if u, err := url.Parse(m.g.server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError("--server %q is not a server's URL, such as http://127.0.0.1:8080", m.g.server)
	}
	if m.g.tenant == "" {
		return usermerge.Errorf(usermerge.Invalid, "tenant_required", "with --server, name the tenant with --tenant or USERMERGE_TENANT")
	}
	if m.g.token == "" {
		return usermerge.Errorf(usermerge.Unauthenticated, "token_required",
			"with --server, give an API token with --token or USERMERGE_TOKEN (an administrator makes one with `usermerge token create NAME`)")
	}
	m.remote = client.New(m.g.server, m.g.token, nil)
	m.eng = m.remote
	m.caller = engine.Caller{Tenant: m.g.tenant}
	return m.run(ctx, m, m.args)
}
