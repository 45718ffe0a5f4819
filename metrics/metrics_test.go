package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// sampleCount returns how many observations a histogram series holds.
func sampleCount(t *testing.T, observer prometheus.Observer) uint64 {
	t.Helper()
	metric, ok := observer.(prometheus.Metric)
	if !ok {
		t.Fatalf("%T is not a prometheus.Metric", observer)
	}
	var out dto.Metric
	if err := metric.Write(&out); err != nil {
		t.Fatalf("write metric: %v", err)
	}
	return out.GetHistogram().GetSampleCount()
}

func TestPurewebCall(t *testing.T) {
	tests := []struct {
		method, path, want string
	}{
		{http.MethodPost, "/oauth2/token", "access_token"},
		{http.MethodPost, "/environments", "create_environment"},
		{http.MethodPost, "/environment/abc/agents", "create_agent_token"},
		{http.MethodGet, "/environment/abc", "get_environment"},
		{http.MethodDelete, "/environment/abc", "delete_environment"},
		{http.MethodGet, "/project/p1", "project"},
		{http.MethodGet, "/models", "models"},
		{http.MethodPost, "/v1/oauth2/token", "access_token"},
		{http.MethodGet, "/environments", "other"},
		{http.MethodGet, "/something/else", "other"},
	}
	for _, tt := range tests {
		if got := purewebCall(tt.method, tt.path); got != tt.want {
			t.Errorf("purewebCall(%s, %q) = %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
}

func TestInstrumentPureWeb(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/environments" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer upstream.Close()

	m := New()
	client := &http.Client{Transport: m.InstrumentPureWeb(nil)}
	for _, path := range []string{"/oauth2/token", "/oauth2/token", "/environments"} {
		resp, err := client.Post(upstream.URL+path, "text/plain", nil)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		resp.Body.Close()
	}

	if got := testutil.CollectAndCount(m.purewebCalls); got != 2 {
		t.Errorf("pureweb call series = %d, want 2 (token 200, environment 403)", got)
	}
	tokenSeries, err := m.purewebCalls.GetMetricWithLabelValues("access_token", "200")
	if err != nil {
		t.Fatal(err)
	}
	if got := sampleCount(t, tokenSeries); got != 2 {
		t.Errorf("access_token 200 observations = %d, want 2", got)
	}
}

func TestMetricsHandler(t *testing.T) {
	m := New()
	m.SignInStarted()
	m.SignInCompleted()
	m.SignInFailed("unknown_state")
	m.Launch("page", "ok")
	m.ObserveHTTP("/launch", http.MethodGet, 200, 5*time.Millisecond)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		"launch_signins_started_total 1",
		"launch_signins_completed_total 1",
		`launch_signins_failed_total{reason="unknown_state"} 1`,
		`launch_launches_total{door="page",outcome="ok"} 1`,
		`launch_http_requests_total{method="GET",route="/launch",status="200"} 1`,
		"go_goroutines",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics output lacks %q", want)
		}
	}
}

func TestNilMetricsIsNoOp(t *testing.T) {
	var m *Metrics
	m.SignInStarted()
	m.SignInCompleted()
	m.SignInFailed("x")
	m.Launch("api", "ok")
	m.ObserveHTTP("/", http.MethodGet, 200, time.Millisecond)
	if got := m.InstrumentPureWeb(http.DefaultTransport); got != http.DefaultTransport {
		t.Errorf("nil InstrumentPureWeb wrapped the transport, want it unchanged")
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil Handler status = %d, want 404", rec.Code)
	}
}
