package httpapi

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/realname/realname/internal/realname"
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

// TestBudgetExhaustedOverHTTP: the service's daily budget feeds the gauges;
// once spent, init answers 503 BUDGET_EXHAUSTED with Retry-After (until
// midnight, China time) and the refusal is counted.
func TestBudgetExhaustedOverHTTP(t *testing.T) {
	s := testServerConfig(t, func(c *realname.Config) { c.DailyBudget = 3 }, nil)
	init := func(user, number string) *httptest.ResponseRecorder {
		return call(s, "POST", "/api/v1/auth/init", `{"user_id":"`+user+`","real_name":"张三","id_card_number":"`+number+
			`","consent":`+consentJSON()+`}`, bearerH(testAPIKey)...)
	}
	wantOK(t, init("b1", adultNumber(91))) // the record check and the face check: 2 of 3
	w := init("b2", adultNumber(92))
	wantErrorCode(t, w, 503, "BUDGET_EXHAUSTED")
	ra, err := strconv.Atoi(w.Header().Get("Retry-After"))
	if err != nil || ra < 1 || ra > 24*3600 {
		t.Fatalf("BUDGET_EXHAUSTED Retry-After %q", w.Header().Get("Retry-After"))
	}
	for series, want := range map[string]float64{
		`realname_provider_budget_used{provider="stub"}`:          2,
		`realname_provider_budget_limit{provider="stub"}`:         3,
		`realname_provider_budget_refused_total{provider="stub"}`: 1,
	} {
		if got, ok := metricValue(t, s.metrics, series); !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
		}
	}
}
