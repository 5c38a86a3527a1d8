package httpapi

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// metricValue reads one series (name with its labels, as /metrics prints
// it) from the metrics; ok is false when it is absent.
func metricValue(t *testing.T, m *Metrics, series string) (float64, bool) {
	t.Helper()
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range strings.Split(w.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f, true
		}
	}
	return 0, false
}

// TestBudgetAndRetentionMetrics: the gauges of the provider budget, the
// counter of refusals (the alert metric) and the retention counter.
func TestBudgetAndRetentionMetrics(t *testing.T) {
	m := NewMetrics(nil, nil)
	m.BudgetSpent("aliyun", 41, 50)
	m.BudgetSpent("aliyun", 42, 50)
	m.BudgetRefused("aliyun")
	m.BudgetRefused("aliyun")
	m.Retained("persons", 3)
	m.Retained("persons", 2)
	m.Retained("audit_entries", 0)
	for series, want := range map[string]float64{
		`realname_provider_budget_used{provider="aliyun"}`:          42,
		`realname_provider_budget_limit{provider="aliyun"}`:         50,
		`realname_provider_budget_refused_total{provider="aliyun"}`: 2,
		`realname_retention_removed_total{item="persons"}`:          5,
		`realname_retention_removed_total{item="audit_entries"}`:    0,
	} {
		got, ok := metricValue(t, m, series)
		if !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
		}
	}
}
