package emulator

import (
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
)

// PureWebStats counts the requests a PureWeb emulator has handled, by
// endpoint, whatever their response. A request cancelled during the added
// latency never reaches a handler and is not counted.
type PureWebStats struct {
	// Token counts POST /oauth2/token requests of every scope.
	Token int64 `json:"token"`
	// AdminToken counts the Token requests whose scope includes "*:*".
	AdminToken int64 `json:"adminToken"`
	// CreateEnvironment counts POST /environments requests.
	CreateEnvironment int64 `json:"createEnvironment"`
	// AgentToken counts POST /environment/{id}/agents requests.
	AgentToken int64 `json:"agentToken"`
	// Other counts every other request, stream pages included.
	Other int64 `json:"other"`
}

// Total returns the number of requests counted, each once.
func (s PureWebStats) Total() int64 {
	return s.Token + s.CreateEnvironment + s.AgentToken + s.Other
}

// Sub returns the counts of the requests handled since the earlier snapshot.
func (s PureWebStats) Sub(earlier PureWebStats) PureWebStats {
	return PureWebStats{
		Token:             s.Token - earlier.Token,
		AdminToken:        s.AdminToken - earlier.AdminToken,
		CreateEnvironment: s.CreateEnvironment - earlier.CreateEnvironment,
		AgentToken:        s.AgentToken - earlier.AgentToken,
		Other:             s.Other - earlier.Other,
	}
}

// pureWebCounters are the live counts behind PureWebStats.
type pureWebCounters struct {
	token, adminToken, createEnvironment, agentToken, other atomic.Int64
}

// Stats returns the requests handled so far, by endpoint. It is safe to call
// while the emulator serves requests.
func (p *PureWeb) Stats() PureWebStats {
	return PureWebStats{
		Token:             p.counters.token.Load(),
		AdminToken:        p.counters.adminToken.Load(),
		CreateEnvironment: p.counters.createEnvironment.Load(),
		AgentToken:        p.counters.agentToken.Load(),
		Other:             p.counters.other.Load(),
	}
}

// counted returns handler preceded by an increment of counter.
func counted(counter *atomic.Int64, handler http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		counter.Add(1)
		handler(w, r)
	}
}

// countAdminToken counts a token request whose comma-separated scope
// includes the admin scope "*:*".
func (p *PureWeb) countAdminToken(scope string) {
	if slices.Contains(strings.Split(scope, ","), "*:*") {
		p.counters.adminToken.Add(1)
	}
}
