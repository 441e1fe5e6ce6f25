package daemon

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/scimbridge/scimbridge/bridge"
)

// serverCollector exports the pool's view of its directory servers at scrape
// time: which one is in use, what the probes see, and how far each standby's
// contextCSN trails the one in use (docs/high-availability.md). Read from the
// pool in use at each scrape, so a reload's new pool shows at once; its
// counters start again at 0, which rate() takes as a reset.
type serverCollector struct {
	pool                         func() *bridge.Pool
	inUse, up, lag, probes, fail *prometheus.Desc
	switches                     *prometheus.Desc
}

func newServerCollector(pool func() *bridge.Pool) *serverCollector {
	l := []string{"url"}
	return &serverCollector{
		pool: pool,
		inUse: prometheus.NewDesc("scimbridge_ldap_server_in_use",
			"1 for the directory server this bridge writes to, 0 for the others (ldap.url, then ldap.failover_urls).", l, nil),
		up: prometheus.NewDesc("scimbridge_ldap_server_up",
			"1 if the server's last background probe succeeded (only with ldap.failover_urls; 0 before the first probe).", l, nil),
		lag: prometheus.NewDesc("scimbridge_ldap_server_replication_lag_seconds",
			"How far the server's contextCSN trails the server in use, at the last probe; absent when unknown (AD, the server in use, a failed probe).", l, nil),
		probes: prometheus.NewDesc("scimbridge_ldap_server_probes_total",
			"Background probes of the server.", l, nil),
		fail: prometheus.NewDesc("scimbridge_ldap_server_probe_failures_total",
			"Background probes of the server that failed.", l, nil),
		switches: prometheus.NewDesc("scimbridge_ldap_server_switches_total",
			"Switches of the server in use: failovers and fail-backs.", nil, nil),
	}
}

func (c *serverCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.inUse, c.up, c.lag, c.probes, c.fail, c.switches} {
		ch <- d
	}
}

func (c *serverCollector) Collect(ch chan<- prometheus.Metric) {
	p := c.pool()
	if p == nil {
		return
	}
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	for _, s := range p.Servers() {
		ch <- prometheus.MustNewConstMetric(c.inUse, prometheus.GaugeValue, b(s.InUse), s.URL)
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, b(s.Up), s.URL)
		ch <- prometheus.MustNewConstMetric(c.probes, prometheus.CounterValue, float64(s.Probes), s.URL)
		ch <- prometheus.MustNewConstMetric(c.fail, prometheus.CounterValue, float64(s.ProbeFailures), s.URL)
		if s.LagKnown {
			ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, s.Lag.Seconds(), s.URL)
		}
	}
	ch <- prometheus.MustNewConstMetric(c.switches, prometheus.CounterValue, float64(p.Switches()))
}
