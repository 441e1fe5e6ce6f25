package daemon

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/buildinfo"
)

// Metrics are the Prometheus metrics of one App, on its own registry so tests
// can run several Apps in one process.
type Metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	tokens      *prometheus.CounterVec
	authFails   *prometheus.CounterVec
	ldapOps     *prometheus.CounterVec
	ldapLatency *prometheus.HistogramVec
	poolWait    prometheus.Histogram
	reloads     *prometheus.CounterVec
	// certs reports the serving certificate's expiry once serverTLS has
	// handed it the certificate source (metrics_tls.go).
	certs *certCollector
}

func newMetrics(pool func() *bridge.Pool) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scimbridge_requests_total",
			Help: "SCIM requests by resource, operation and HTTP status.",
		}, []string{"resource", "operation", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "scimbridge_request_duration_seconds",
			Help: "SCIM request latency.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"resource", "operation"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scimbridge_token_requests_total",
			Help: "Authenticated requests by token name (never the token).",
		}, []string{"token"}),
		authFails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scimbridge_auth_failures_total",
			Help: "Requests refused at authentication: result refused (401, or 400 for two Authorization headers), " +
				"or rate_limited (429: the address failed more often than server.auth_failures allows).",
		}, []string{"result"}),
		ldapOps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scimbridge_ldap_operations_total",
			Help: "LDAP operations by operation and result (LDAP result code, or network).",
		}, []string{"operation", "result"}),
		ldapLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "scimbridge_ldap_operation_duration_seconds",
			Help: "LDAP operation latency.", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
		}, []string{"operation"}),
		poolWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "scimbridge_ldap_pool_wait_seconds",
			Help: "Time spent waiting for a free pooled LDAP connection.", Buckets: prometheus.ExponentialBuckets(0.00001, 4, 12),
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scimbridge_config_reloads_total",
			Help: "Configuration reloads by result.",
		}, []string{"result"}),
	}
	// Both results of each exist from the start, so that rate() and
	// increase() see the first one: a series that appears at 1 shows no
	// increase, and the alert on a failed reload would miss it.
	m.authFails.WithLabelValues("refused")
	m.authFails.WithLabelValues("rate_limited")
	m.reloads.WithLabelValues("ok")
	m.reloads.WithLabelValues("error")
	m.certs = newCertCollector()
	m.reg.MustRegister(m.requests, m.latency, m.tokens, m.authFails, m.ldapOps, m.ldapLatency, m.poolWait, m.reloads,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newServerCollector(pool), m.certs, buildInfo(),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "scimbridge_ldap_pool_in_use",
			Help: "Pooled LDAP connections in use.",
		}, func() float64 { return float64(pool().InUse()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "scimbridge_ldap_pool_idle",
			Help: "Idle pooled LDAP connections.",
		}, func() float64 { return float64(pool().Idle()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "scimbridge_ldap_pool_size",
			Help: "Maximum pooled LDAP connections.",
		}, func() float64 { return float64(pool().Size()) }),
	)
	return m
}

// buildInfo is the constant 1 labelled with the running build, so a
// dashboard can show which version each bridge runs and join it to other
// series (the usual *_build_info pattern).
func buildInfo() prometheus.Collector {
	i := buildinfo.Get()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "scimbridge_build_info",
		Help: "1, labelled with the running build's version, VCS commit and Go version.",
	}, []string{"version", "commit", "goversion"})
	g.WithLabelValues(i.Version, i.Commit, i.GoVersion).Set(1)
	return g
}

// Request implements scimapi.Observer.
func (m *Metrics) Request(resource, operation string, status int, d time.Duration, token string) {
	m.requests.WithLabelValues(resource, operation, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(resource, operation).Observe(d.Seconds())
	if token != "" {
		m.tokens.WithLabelValues(token).Inc()
	}
}

// AuthRefused implements scimapi.AuthObserver.
func (m *Metrics) AuthRefused(rateLimited bool) {
	if rateLimited {
		m.authFails.WithLabelValues("rate_limited").Inc()
	} else {
		m.authFails.WithLabelValues("refused").Inc()
	}
}

func (m *Metrics) ldapOp(op string, d time.Duration, err error) {
	m.ldapOps.WithLabelValues(op, ldapResult(err)).Inc()
	m.ldapLatency.WithLabelValues(op).Observe(d.Seconds())
}

// Reload records a configuration reload.
func (m *Metrics) Reload(ok bool) {
	if ok {
		m.reloads.WithLabelValues("ok").Inc()
	} else {
		m.reloads.WithLabelValues("error").Inc()
	}
}

// ldapResult is the result label of an LDAP operation: success, the LDAP
// result code the server sent, or network. go-ldap reports a broken or
// closed connection as an *ldap.Error too, with its own client-side code
// ErrorNetwork (200), which no server sends: that is a network failure, and
// is labelled as one so that a single value covers it on the dashboard and in
// the alerts.
func ldapResult(err error) string {
	if err == nil {
		return "success"
	}
	var le *ldap.Error
	if errors.As(err, &le) && le.ResultCode != ldap.ErrorNetwork {
		return strconv.Itoa(int(le.ResultCode))
	}
	return "network"
}

// opsHandler serves /metrics, /healthz (the process is up) and /readyz (the
// configuration is loaded and a bind to the directory works), unauthenticated,
// on the separate metrics listener.
func (a *App) opsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(a.Metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := a.Pool().Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("directory: unavailable\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}
