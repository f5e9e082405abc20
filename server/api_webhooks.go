package server

import (
	"net/http"
	"strconv"
	"time"

	"usermerge"
)

// The webhook API (PRODUCT.md §13): a tenant administrator's endpoints,
// their deliveries and the attempts of each.

func (s *Server) webhookRoutes(t string) []route {
	return []route{
		{"GET", t + "/webhooks", tenant, s.listWebhooks},
		{"POST", t + "/webhooks", tenant, s.createWebhook},
		{"GET", t + "/webhooks/{id}", tenant, s.getWebhook},
		{"PATCH", t + "/webhooks/{id}", tenant, s.updateWebhook},
		{"DELETE", t + "/webhooks/{id}", tenant, s.deleteWebhook},
		{"POST", t + "/webhooks/{id}/rotate-secret", tenant, s.rotateWebhookSecret},
		{"POST", t + "/webhooks/{id}/test", tenant, s.testWebhook},
		{"GET", t + "/deliveries", tenant, s.listDeliveries},
		{"GET", t + "/deliveries/{id}", tenant, s.getDelivery},
		{"POST", t + "/deliveries/{id}/replay", tenant, s.replayDelivery},
	}
}

// WebhookList is the answer of GET /webhooks.
type WebhookList struct {
	Webhooks []usermerge.Webhook `json:"webhooks"`
}

// WebhookSecret answers a new endpoint or a rotation: the secret is shown
// this once.
type WebhookSecret struct {
	Webhook usermerge.Webhook `json:"webhook"`
	Secret  string            `json:"secret"`
}

// RotateBody asks for a new secret; the old one keeps signing for Overlap
// (a Go duration such as "24h"; empty: 24 hours; at most 168h).
type RotateBody struct {
	Overlap string `json:"overlap,omitempty"`
}

// DeliveryAnswer is one delivery with its attempts.
type DeliveryAnswer struct {
	Delivery usermerge.WebhookDelivery  `json:"delivery"`
	Attempts []usermerge.WebhookAttempt `json:"attempts"`
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, c *call) error {
	ws, err := s.eng.Webhooks(r.Context(), c.Caller)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, WebhookList{Webhooks: ws})
	return nil
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, c *call) error {
	var in usermerge.WebhookInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	hook, secret, err := s.eng.CreateWebhook(r.Context(), c.Caller, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, WebhookSecret{Webhook: hook, Secret: secret})
	return nil
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	hook, err := s.eng.Webhook(r.Context(), c.Caller, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, hook)
	return nil
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	var in usermerge.WebhookInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	hook, err := s.eng.UpdateWebhook(r.Context(), c.Caller, id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, hook)
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if err := s.eng.DeleteWebhook(r.Context(), c.Caller, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	var b RotateBody
	if r.ContentLength != 0 {
		if err := decode(w, r, &b); err != nil {
			return err
		}
	}
	var overlap time.Duration
	if b.Overlap != "" {
		if overlap, err = time.ParseDuration(b.Overlap); err != nil || overlap <= 0 {
			return badRequest("overlap is how long the old secret keeps signing, such as \"24h\", not %q", b.Overlap)
		}
	}
	hook, secret, err := s.eng.RotateWebhookSecret(r.Context(), c.Caller, id, overlap)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, WebhookSecret{Webhook: hook, Secret: secret})
	return nil
}

func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	d, err := s.eng.TestWebhook(r.Context(), c.Caller, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, d)
	return nil
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request, c *call) error {
	f := usermerge.DeliveryFilter{Status: r.URL.Query().Get("status")}
	if v := r.URL.Query().Get("webhook"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return badRequest("webhook must be an endpoint's id, not %q", v)
		}
		f.Webhook = n
	}
	var err error
	if f.Limit, err = queryInt(r, "limit", 50, 1, 1000); err != nil {
		return err
	}
	if f.Offset, err = queryInt(r, "offset", 0, 0, 1<<30); err != nil {
		return err
	}
	page, err := s.eng.WebhookDeliveries(r.Context(), c.Caller, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) getDelivery(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	d, at, err := s.eng.WebhookDelivery(r.Context(), c.Caller, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, DeliveryAnswer{Delivery: d, Attempts: at})
	return nil
}

func (s *Server) replayDelivery(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	d, err := s.eng.ReplayDelivery(r.Context(), c.Caller, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, d)
	return nil
}
