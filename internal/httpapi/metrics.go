package httpapi

import (
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/realname/realname/internal/realname"
)

// Metrics is the service's Prometheus metrics. It implements
// realname.Metrics.
type Metrics struct {
	reg        *prometheus.Registry
	initTotal  prometheus.Counter
	success    prometheus.Counter
	failure    *prometheus.CounterVec
	processing prometheus.Histogram
	cacheHits  prometheus.Counter
	cacheMiss  prometheus.Counter
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	limitedVec *prometheus.CounterVec
	// The daily provider budget and the retention job.
	budgetUsed    *prometheus.GaugeVec
	budgetLimit   *prometheus.GaugeVec
	budgetRefused *prometheus.CounterVec
	retained      *prometheus.CounterVec
}

// Metrics also watches the provider budget and the retention job.
var (
	_ realname.Metrics          = (*Metrics)(nil)
	_ realname.BudgetMetrics    = (*Metrics)(nil)
	_ realname.RetentionMetrics = (*Metrics)(nil)
)

// NewMetrics registers the metrics on a fresh registry. openSessions and
// dbStats feed gauges at scrape time (either may be nil).
func NewMetrics(openSessions func(context.Context) (int, error), dbStats func() sql.DBStats) *Metrics {
	m := &Metrics{
		reg:       prometheus.NewRegistry(),
		initTotal: prometheus.NewCounter(prometheus.CounterOpts{Name: "realname_auth_init_total", Help: "Verification starts that passed local validation."}),
		success:   prometheus.NewCounter(prometheus.CounterOpts{Name: "realname_auth_success_total", Help: "Verifications that succeeded."}),
		failure:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "realname_auth_failure_total", Help: "Verifications that ended without success, by status."}, []string{"status"}),
		processing: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "realname_auth_processing_time_seconds",
			Help: "Time from init to a terminal state.", Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600}}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{Name: "realname_cache_hits_total", Help: "Answer cache hits."}),
		cacheMiss: prometheus.NewCounter(prometheus.CounterOpts{Name: "realname_cache_misses_total", Help: "Answer cache misses."}),
		requests:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "realname_http_requests_total", Help: "HTTP requests by route and status."}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "realname_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 5, 15}}, []string{"route"}),
		limitedVec: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "realname_rate_limited_total",
			Help: "Requests answered 429 RATE_LIMITED, by rule (ip, api_key, user_init)."}, []string{"rule"}),
		budgetUsed: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "realname_provider_budget_used",
			Help: "Paid provider calls spent today (China time), by provider."}, []string{"provider"}),
		budgetLimit: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "realname_provider_budget_limit",
			Help: "The daily budget of paid provider calls, by provider."}, []string{"provider"}),
		budgetRefused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "realname_provider_budget_refused_total",
			Help: "Verifications refused with BUDGET_EXHAUSTED because the daily provider budget was spent, by provider."}, []string{"provider"}),
		retained: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "realname_retention_removed_total",
			Help: "Items the retention job removed, by item."}, []string{"item"}),
	}
	for _, r := range []string{ruleIP, ruleAPIKey, ruleUserInit, ruleAuthority} {
		m.limitedVec.WithLabelValues(r) // present at zero from the start
	}
	for _, st := range []realname.Status{realname.StatusFailed, realname.StatusCancelled} {
		m.failure.WithLabelValues(string(st)) // present at zero from the start
	}
	m.reg.MustRegister(m.initTotal, m.success, m.failure, m.processing, m.cacheHits, m.cacheMiss, m.requests, m.latency, m.limitedVec,
		m.budgetUsed, m.budgetLimit, m.budgetRefused, m.retained,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	if openSessions != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "realname_active_auth_sessions", Help: "Sessions pending or processing."},
			func() float64 {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				n, err := openSessions(ctx)
				if err != nil {
					return -1
				}
				return float64(n)
			}))
	}
	if dbStats != nil {
		for name, f := range map[string]func(sql.DBStats) float64{
			"realname_db_open_connections":     func(s sql.DBStats) float64 { return float64(s.OpenConnections) },
			"realname_db_in_use_connections":   func(s sql.DBStats) float64 { return float64(s.InUse) },
			"realname_db_idle_connections":     func(s sql.DBStats) float64 { return float64(s.Idle) },
			"realname_db_max_open_connections": func(s sql.DBStats) float64 { return float64(s.MaxOpenConnections) },
			"realname_db_wait_count":           func(s sql.DBStats) float64 { return float64(s.WaitCount) },
			"realname_db_wait_seconds":         func(s sql.DBStats) float64 { return s.WaitDuration.Seconds() },
		} {
			m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: "Database pool: " + name[len("realname_db_"):] + "."},
				func() float64 { return f(dbStats()) }))
		}
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// InitStarted counts a start.
func (m *Metrics) InitStarted() { m.initTotal.Inc() }

// Finished counts a terminal state and its processing time.
func (m *Metrics) Finished(st realname.Status, took time.Duration) {
	if st == realname.StatusSuccess {
		m.success.Inc()
	} else {
		m.failure.WithLabelValues(string(st)).Inc()
	}
	m.processing.Observe(took.Seconds())
}

// limited counts a request refused by a rate limit.
func (m *Metrics) limited(rule string) { m.limitedVec.WithLabelValues(rule).Inc() }

// BudgetSpent sets the gauges of the provider's daily budget
// (realname.BudgetMetrics).
func (m *Metrics) BudgetSpent(provider string, used, limit int) {
	m.budgetUsed.WithLabelValues(provider).Set(float64(used))
	m.budgetLimit.WithLabelValues(provider).Set(float64(limit))
}

// BudgetRefused counts a verification refused because the provider's daily
// budget is spent (realname.BudgetMetrics); the alert metric.
func (m *Metrics) BudgetRefused(provider string) { m.budgetRefused.WithLabelValues(provider).Inc() }

// Retained counts what the retention job removed (realname.RetentionMetrics).
// A run that removed nothing still makes the item's series appear, at zero.
func (m *Metrics) Retained(item string, n int) {
	c := m.retained.WithLabelValues(item)
	if n > 0 {
		c.Add(float64(n))
	}
}

// CacheHit counts a hit.
func (m *Metrics) CacheHit() { m.cacheHits.Inc() }

// CacheMiss counts a miss.
func (m *Metrics) CacheMiss() { m.cacheMiss.Inc() }

// routeObserver holds one route's pre-curried metrics.
type routeObserver struct {
	latency prometheus.Observer
	codes   [len(knownCodes)]prometheus.Counter // by the index of the code in knownCodes
	vec     *prometheus.CounterVec
	route   string
}

// knownCodes are the statuses the API answers, 200 first (the hot path
// finds it at once).
var knownCodes = [...]int{200, 400, 401, 403, 404, 409, 413, 429, 500, 503}

func (m *Metrics) route(route string) *routeObserver {
	o := &routeObserver{latency: m.latency.WithLabelValues(route), vec: m.requests, route: route}
	for i, c := range knownCodes {
		o.codes[i] = m.requests.WithLabelValues(route, strconv.Itoa(c))
	}
	return o
}

func (o *routeObserver) observe(code int, took time.Duration) {
	if code == 0 {
		code = http.StatusOK
	}
	o.latency.Observe(took.Seconds())
	for i, c := range knownCodes {
		if c == code {
			o.codes[i].Inc()
			return
		}
	}
	o.vec.WithLabelValues(o.route, strconv.Itoa(code)).Inc()
}
