package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"usermerge"
)

// metrics are the server's Prometheus metrics.
type metrics struct {
	merges   prometheus.Counter
	reverts  prometheus.Counter
	refusals *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		merges: prometheus.NewCounter(prometheus.CounterOpts{Name: "usermerge_merges_total",
			Help: "Merges completed (one per source)."}),
		reverts: prometheus.NewCounter(prometheus.CounterOpts{Name: "usermerge_reverts_total",
			Help: "Merges reverted."}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "usermerge_refusals_total",
			Help: "Requests refused, by reason (e.g. source_already_merged, out_of_scope)."}, []string{"reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "usermerge_http_request_duration_seconds",
			Help: "HTTP request latency by route and status.", Buckets: prometheus.DefBuckets}, []string{"route", "code"}),
	}
	reg.MustRegister(m.merges, m.reverts, m.refusals, m.latency)
	return m
}

func (m *metrics) handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

func (m *metrics) observe(route string, status int, d time.Duration) {
	m.latency.WithLabelValues(route, strconv.Itoa(status)).Observe(d.Seconds())
}

func (m *metrics) refused(err error) {
	if usermerge.ErrorCode(err) == usermerge.Internal {
		return
	}
	m.refusals.WithLabelValues(usermerge.ErrorReason(err)).Inc()
}
