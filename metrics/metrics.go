// Package metrics defines the application's Prometheus metrics: sign-ins,
// launches, PureWeb calls and HTTP requests. Every method is safe on a nil
// *Metrics, which records nothing, so callers need no checks when metrics
// are turned off.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "launch"

// Metrics holds the collectors, registered on a registry of its own rather
// than Prometheus's global one, so that tests and several servers in one
// process do not collide.
type Metrics struct {
	registry *prometheus.Registry

	signInsStarted   prometheus.Counter
	signInsCompleted prometheus.Counter
	signInsFailed    *prometheus.CounterVec
	launches         *prometheus.CounterVec
	purewebCalls     *prometheus.HistogramVec
	httpRequests     *prometheus.CounterVec
	httpDuration     *prometheus.HistogramVec
}

// New creates the collectors, plus the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		signInsStarted: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "signins_started_total",
			Help: "Sign-ins started: redirects to the identity provider.",
		}),
		signInsCompleted: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "signins_completed_total",
			Help: "Sign-ins completed: verified callbacks that stored a session.",
		}),
		signInsFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "signins_failed_total",
			Help: "Failed sign-in callbacks, by reason.",
		}, []string{"reason"}),
		launches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "launches_total",
			Help: "Launch token flows, by front door (page or api) and outcome.",
		}, []string{"door", "outcome"}),
		purewebCalls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "pureweb_call_duration_seconds",
			Help: "Latency of PureWeb platform API calls, by call and HTTP status " +
				"(0 when no response arrived).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"call", "status"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "http_request_duration_seconds",
			Help:    "Latency of HTTP requests served, by route pattern and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
	}
	m.registry.MustRegister(
		m.signInsStarted, m.signInsCompleted, m.signInsFailed, m.launches,
		m.purewebCalls, m.httpRequests, m.httpDuration,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Handler serves the metrics in the Prometheus text format. On a nil
// *Metrics it responds with 404.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// SignInStarted counts a redirect to the identity provider.
func (m *Metrics) SignInStarted() {
	if m != nil {
		m.signInsStarted.Inc()
	}
}

// SignInCompleted counts a callback that signed a person in.
func (m *Metrics) SignInCompleted() {
	if m != nil {
		m.signInsCompleted.Inc()
	}
}

// SignInFailed counts a failed callback. reason is a short code such as
// "unknown_state"; keep the set of reasons small and fixed.
func (m *Metrics) SignInFailed(reason string) {
	if m != nil {
		m.signInsFailed.WithLabelValues(reason).Inc()
	}
}

// Launch counts one run of the launch token flow. door is "page" or "api";
// outcome is "ok" or a short failure code.
func (m *Metrics) Launch(door, outcome string) {
	if m != nil {
		m.launches.WithLabelValues(door, outcome).Inc()
	}
}

// ObserveHTTP records one served request. route is the route pattern, such
// as "/launch", never the raw path, so that the number of series stays
// bounded.
func (m *Metrics) ObserveHTTP(route, method string, status int, elapsed time.Duration) {
	if m == nil {
		return
	}
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(route, method).Observe(elapsed.Seconds())
}
