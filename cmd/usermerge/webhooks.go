package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"usermerge"
)

var webhooksCmd = &command{
	name:    "webhooks",
	usage:   "webhooks [list | add URL | show ID | update ID | remove ID | rotate ID | test ID | deliveries | delivery ID | replay ID] [flags]",
	summary: "manage the endpoints that hear of merges, reverts and deletions",
	help: `Webhooks tell other systems (an LMS, an HR system, a warehouse) of the
tenant's events as they commit, signed as the Standard Webhooks
specification says and retried over about three days (docs/events.md).
Tenant administrators only.

  webhooks list              the endpoints, with their deliveries so far
  webhooks add URL           registers an endpoint and prints its secret once;
                             --type picks event types (default: all),
                             --description says what it is for
  webhooks show ID           one endpoint
  webhooks update ID         changes --url, --type, --description, or
                             --enable / --disable it
  webhooks remove ID         removes it; its pending deliveries fail
  webhooks rotate ID         gives it a new secret, printed once; the old one
                             keeps signing for --overlap (default 24h, at most 168h)
  webhooks test ID           sends it a webhook.test delivery
  webhooks deliveries        deliveries, newest first (--webhook ID,
                             --status pending|delivered|failed, --limit N)
  webhooks delivery ID       one delivery and every attempt of it
  webhooks replay ID         sends a delivery again, with the same webhook-id

Endpoints on loopback, link-local or private addresses are refused: the
server delivers to them only when it runs with --allow-private-webhooks,
and on a database file this command accepts them with the same flag.

Examples:
  usermerge --tenant acme --as admin webhooks add https://203.0.113.10/hooks/usermerge --type merge.completed,merge.reverted
  usermerge --tenant acme --as admin webhooks list
  usermerge --tenant acme --as admin webhooks deliveries --status failed
  usermerge --tenant acme --as admin webhooks replay <ID from webhooks deliveries>`,
	db: existingDB, tenant: true, admin: true, maxArgs: 2,
	setup: func(fs *flag.FlagSet) runFunc {
		var types *[]string
		fs.Func("type", "with add or update: the event types `T` it wants (repeat, or separate with commas)", func(s string) error {
			if types == nil {
				types = &[]string{}
			}
			for _, t := range strings.Split(s, ",") {
				if t = strings.TrimSpace(t); t != "" {
					*types = append(*types, t)
				}
			}
			return nil
		})
		description := fs.String("description", "", "with add or update: what the endpoint is for")
		newURL := fs.String("url", "", "with update: the endpoint's new `URL`")
		enable := fs.Bool("enable", false, "with update: enable the endpoint (its waiting deliveries resume)")
		disable := fs.Bool("disable", false, "with update: disable the endpoint (deliveries to it wait)")
		overlap := fs.Duration("overlap", 0, "with rotate: how long the old secret keeps signing (default 24h)")
		webhook := fs.Int64("webhook", 0, "with deliveries: only those to endpoint `ID`")
		status := fs.String("status", "", "with deliveries: only those that are `S` (pending, delivered or failed)")
		limit := fs.Int("limit", 50, "with deliveries: at most `N` (1-1000)")
		allowPrivate := fs.Bool("allow-private-webhooks", false, "on a database file: accept endpoints on private addresses")
		return func(ctx context.Context, m *Main, args []string) error {
			sub := "list"
			if len(args) > 0 {
				sub = args[0]
			}
			if *allowPrivate && m.local != nil {
				m.local.AllowPrivateWebhooks(true)
			}
			set := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
			allowed := map[string][]string{"add": {"type", "description"}, "update": {"type", "description", "url", "enable", "disable"},
				"rotate": {"overlap"}, "deliveries": {"webhook", "status", "limit"}}
			for name := range set {
				if globalFlags[name] || name == "allow-private-webhooks" {
					continue
				}
				ok := false
				for _, a := range allowed[sub] {
					ok = ok || a == name
				}
				if !ok {
					return usageError("webhooks %s does not take --%s (see usermerge help webhooks)", sub, name)
				}
			}
			needID := map[string]bool{"show": true, "update": true, "remove": true, "rotate": true, "test": true, "delivery": true, "replay": true}
			var id int64
			switch {
			case needID[sub]:
				if len(args) != 2 {
					return usageError("webhooks %s takes the id of one %s", sub, map[bool]string{true: "delivery", false: "endpoint"}[sub == "delivery" || sub == "replay"])
				}
				n, err := strconv.ParseInt(args[1], 10, 64)
				if err != nil || n < 1 {
					return usageError("webhooks %s: %q is not an id (a whole number, 1 or more)", sub, args[1])
				}
				id = n
			case sub == "add":
				if len(args) != 2 {
					return usageError("webhooks add takes the endpoint's URL")
				}
			case sub == "list" || sub == "deliveries":
				if len(args) > 1 {
					return usageError("webhooks %s takes no arguments", sub)
				}
			default:
				return usageError("webhooks: %q is not a webhooks command; use list, add, show, update, remove, rotate, test, deliveries, delivery or replay", sub)
			}
			switch sub {
			case "list":
				ws, err := m.eng.Webhooks(ctx, m.caller)
				if err != nil {
					return err
				}
				return m.emit(map[string]any{"webhooks": ws}, func(w io.Writer) error { return writeWebhooks(w, ws) })
			case "add":
				in := usermerge.WebhookInput{URL: &args[1], Types: types}
				if set["description"] {
					in.Description = description
				}
				hook, secret, err := m.eng.CreateWebhook(ctx, m.caller, in)
				if err != nil {
					return err
				}
				return m.emit(map[string]any{"webhook": hook, "secret": secret}, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "Webhook %d registered: %s, for %s.\nIts signing secret:\n\n  %s\n\nThis is the only time it is shown; store it where the receiver checks signatures.\n",
						hook.ID, hook.URL, typesText(hook.Types), secret)
					return err
				})
			case "show":
				hook, err := m.eng.Webhook(ctx, m.caller, id)
				if err != nil {
					return err
				}
				return m.emit(hook, func(w io.Writer) error { return writeWebhook(w, hook) })
			case "update":
				if *enable && *disable {
					return usageError("webhooks update: --enable or --disable, not both")
				}
				in := usermerge.WebhookInput{Types: types}
				if set["url"] {
					in.URL = newURL
				}
				if set["description"] {
					in.Description = description
				}
				if *enable || *disable {
					on := *enable
					in.Enabled = &on
				}
				if in == (usermerge.WebhookInput{}) {
					return usageError("webhooks update: say what to change: --url, --type, --description, --enable or --disable")
				}
				hook, err := m.eng.UpdateWebhook(ctx, m.caller, id, in)
				if err != nil {
					return err
				}
				return m.emit(hook, func(w io.Writer) error { return writeWebhook(w, hook) })
			case "remove":
				if err := m.eng.DeleteWebhook(ctx, m.caller, id); err != nil {
					return err
				}
				return m.emit(map[string]int64{"removed": id}, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "Webhook %d removed; its pending deliveries failed.\n", id)
					return err
				})
			case "rotate":
				hook, secret, err := m.eng.RotateWebhookSecret(ctx, m.caller, id, *overlap)
				if err != nil {
					return err
				}
				return m.emit(map[string]any{"webhook": hook, "secret": secret}, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "Webhook %d has a new signing secret:\n\n  %s\n\nThis is the only time it is shown. Until %s deliveries carry a signature of the old secret too.\n",
						hook.ID, secret, fmtTime(*hook.PreviousSecretUntil))
					return err
				})
			case "test":
				d, err := m.eng.TestWebhook(ctx, m.caller, id)
				if err != nil {
					return err
				}
				return m.emit(d, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "Test delivery %d queued for webhook %d (webhook-id %s); see it with: usermerge webhooks delivery %d\n", d.ID, id, d.MessageID, d.ID)
					return err
				})
			case "deliveries":
				if *limit < 1 || *limit > 1000 {
					return usageError("webhooks deliveries: --limit must be between 1 and 1000")
				}
				page, err := m.eng.WebhookDeliveries(ctx, m.caller, usermerge.DeliveryFilter{Webhook: *webhook, Status: *status, Limit: *limit})
				if err != nil {
					return err
				}
				return m.emit(page, func(w io.Writer) error { return writeDeliveries(w, page) })
			case "delivery":
				d, at, err := m.eng.WebhookDelivery(ctx, m.caller, id)
				if err != nil {
					return err
				}
				return m.emit(map[string]any{"delivery": d, "attempts": at}, func(w io.Writer) error { return writeDelivery(w, d, at) })
			default: // replay
				d, err := m.eng.ReplayDelivery(ctx, m.caller, id)
				if err != nil {
					return err
				}
				return m.emit(d, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "Delivery %d will be sent again now, with the same webhook-id %s.\n", d.ID, d.MessageID)
					return err
				})
			}
		}
	},
}

func typesText(types []string) string {
	if len(types) == 0 {
		return "every event type"
	}
	return strings.Join(types, ", ")
}

func webhookState(h usermerge.Webhook) string {
	switch {
	case h.Enabled:
		return "enabled"
	case h.DisabledReason == "gone":
		return "disabled: it answered 410 Gone"
	default:
		return "disabled"
	}
}

func writeWebhooks(w io.Writer, ws []usermerge.Webhook) error {
	if len(ws) == 0 {
		_, err := fmt.Fprintln(w, "No webhooks. Register one with: usermerge webhooks add URL")
		return err
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "ID\tURL\tTYPES\tSTATE\tPENDING\tDELIVERED\tFAILED")
	for _, h := range ws {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%d\n", h.ID, h.URL, typesText(h.Types), webhookState(h), h.Pending, h.Delivered, h.Failed)
	}
	return tw.Flush()
}

func writeWebhook(w io.Writer, h usermerge.Webhook) error {
	tw := newTable(w)
	fmt.Fprintf(tw, "Webhook\t%d\n", h.ID)
	fmt.Fprintf(tw, "URL\t%s\n", h.URL)
	if h.Description != "" {
		fmt.Fprintf(tw, "Description\t%s\n", h.Description)
	}
	fmt.Fprintf(tw, "Types\t%s\n", typesText(h.Types))
	fmt.Fprintf(tw, "State\t%s\n", webhookState(h))
	fmt.Fprintf(tw, "Created\t%s by %s\n", fmtTime(h.CreatedAt), h.CreatedBy)
	if h.SecretRotatedAt != nil {
		fmt.Fprintf(tw, "Secret rotated\t%s", fmtTime(*h.SecretRotatedAt))
		if h.PreviousSecretUntil != nil {
			fmt.Fprintf(tw, " (the old one signs too until %s)", fmtTime(*h.PreviousSecretUntil))
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintf(tw, "Deliveries\t%d pending, %d delivered, %d failed\n", h.Pending, h.Delivered, h.Failed)
	return tw.Flush()
}

func writeDeliveries(w io.Writer, p usermerge.DeliveryPage) error {
	if len(p.Deliveries) == 0 {
		_, err := fmt.Fprintln(w, "No deliveries.")
		return err
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "ID\tWEBHOOK\tEVENT\tTYPE\tSTATUS\tATTEMPTS\tLAST ANSWER\tNEXT")
	for _, d := range p.Deliveries {
		next := "-"
		if d.NextAt != nil {
			next = fmtTime(*d.NextAt)
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.Webhook, d.Event, d.EventType, d.Status, d.Attempts, lastAnswer(d.LastStatus, d.LastError), next)
	}
	tw.Flush()
	_, err := fmt.Fprintf(w, "%s of %d\n", plural(len(p.Deliveries), "delivery", "deliveries"), p.Total)
	return err
}

func lastAnswer(status int, errText string) string {
	switch {
	case status > 0:
		return strconv.Itoa(status)
	case errText != "":
		return errText
	default:
		return "-"
	}
}

func writeDelivery(w io.Writer, d usermerge.WebhookDelivery, at []usermerge.WebhookAttempt) error {
	fmt.Fprintf(w, "Delivery %d of %s (event %d) to webhook %d: %s after %s.\nwebhook-id %s\n", d.ID, d.EventType, d.Event, d.Webhook, d.Status,
		plural(d.Attempts, "attempt", "attempts"), d.MessageID)
	if d.NextAt != nil {
		fmt.Fprintf(w, "Next attempt due %s.\n", fmtTime(*d.NextAt))
	}
	if len(at) == 0 {
		_, err := fmt.Fprintln(w, "No attempt yet.")
		return err
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "\nN\tAT\tSTATUS\tMS\tANSWER")
	for _, a := range at {
		answer := a.Error
		if answer == "" {
			answer = strings.Join(strings.Fields(a.Response), " ")
			if r := []rune(answer); len(r) > 80 {
				answer = string(r[:77]) + "..."
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\n", a.N, fmtTime(a.At), lastAnswer(a.Status, "-"), a.Millis, answer)
	}
	return tw.Flush()
}
