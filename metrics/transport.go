package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// InstrumentPureWeb wraps base, the transport of the PureWeb API client, so
// that each call's latency is recorded by call and status. On a nil
// *Metrics it returns base unchanged. A nil base means
// http.DefaultTransport.
func (m *Metrics) InstrumentPureWeb(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if m == nil {
		return base
	}
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		start := time.Now()
		resp, err := base.RoundTrip(req)
		status := "0"
		if err == nil {
			status = strconv.Itoa(resp.StatusCode)
		}
		call := purewebCall(req.Method, req.URL.Path)
		m.purewebCalls.WithLabelValues(call, status).Observe(time.Since(start).Seconds())
		return resp, err
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// purewebCall names a PureWeb API call from its method and path, leaving out
// IDs so that label values stay few. The paths are those of PureWeb's admin
// SDK: /oauth2/token, /environments, /environment/{id}[/agents],
// /project/{id} and /models.
func purewebCall(method, path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	// The API may sit under a base path; the call is named by the last
	// recognisable segments.
	for i, part := range parts {
		rest := parts[i+1:]
		switch {
		case part == "oauth2" && len(rest) == 1 && rest[0] == "token":
			return "access_token"
		case part == "environments" && len(rest) == 0 && method == http.MethodPost:
			return "create_environment"
		case part == "environment" && len(rest) == 2 && rest[1] == "agents":
			return "create_agent_token"
		case part == "environment" && len(rest) == 1 && method == http.MethodDelete:
			return "delete_environment"
		case part == "environment" && len(rest) == 1:
			return "get_environment"
		case part == "project" && len(rest) == 1:
			return "project"
		case part == "models" && len(rest) == 0:
			return "models"
		}
	}
	return "other"
}
