package emulator

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// PlatformFault makes the PureWeb emulator's API calls fail in a chosen way,
// so that tests and demos can show how the application copes with an outage
// or a misbehaving platform. The stream page never fails.
type PlatformFault string

// The platform faults.
const (
	PlatformFaultNone          PlatformFault = ""
	PlatformFaultRefuse        PlatformFault = "refuse"         // the connection closes with no response
	PlatformFaultSlow          PlatformFault = "slow"           // no response until the client gives up
	PlatformFaultUnauthorized  PlatformFault = "unauthorized"   // 401, as for wrong project credentials
	PlatformFaultForbidden     PlatformFault = "forbidden"      // 403
	PlatformFaultServerError   PlatformFault = "server_error"   // 500
	PlatformFaultUnavailable   PlatformFault = "unavailable"    // 503
	PlatformFaultMalformedJSON PlatformFault = "malformed_json" // 200 with a body that is not JSON
	PlatformFaultEmptyJSON     PlatformFault = "empty_json"     // 200 with {}
)

// PlatformFaults lists every platform fault.
var PlatformFaults = []PlatformFault{
	PlatformFaultRefuse, PlatformFaultSlow, PlatformFaultUnauthorized,
	PlatformFaultForbidden, PlatformFaultServerError, PlatformFaultUnavailable,
	PlatformFaultMalformedJSON, PlatformFaultEmptyJSON,
}

// PlatformCall names the API calls a fault can target.
type PlatformCall string

// The API calls, as the admin SDK names its operations.
const (
	CallAny               PlatformCall = ""
	CallToken             PlatformCall = "token"
	CallCreateEnvironment PlatformCall = "create_environment"
	CallAgentToken        PlatformCall = "agent_token"
)

// slowFaultLimit bounds how long the slow fault holds a request whose client
// never gives up.
const slowFaultLimit = 2 * time.Minute

type platformFaultState struct {
	mu    sync.Mutex
	fault PlatformFault
	call  PlatformCall
}

// SetFault makes every later call named call, or every call for CallAny,
// fail with fault until SetFault is called again. PlatformFaultNone turns
// faults off.
func (p *PureWeb) SetFault(fault PlatformFault, call PlatformCall) error {
	known := fault == PlatformFaultNone
	for _, f := range PlatformFaults {
		known = known || f == fault
	}
	if !known {
		return fmt.Errorf("emulator: pureweb: unknown fault %q", fault)
	}
	switch call {
	case CallAny, CallToken, CallCreateEnvironment, CallAgentToken:
	default:
		return fmt.Errorf("emulator: pureweb: unknown call %q", call)
	}
	p.faults.mu.Lock()
	defer p.faults.mu.Unlock()
	p.faults.fault, p.faults.call = fault, call
	return nil
}

// callOf names the API call r makes, or returns "" for the stream page and
// unknown paths, which faults leave alone.
func callOf(r *http.Request) PlatformCall {
	path := strings.Trim(r.URL.Path, "/")
	switch {
	case r.Method == http.MethodPost && path == "oauth2/token":
		return CallToken
	case r.Method == http.MethodPost && path == "environments":
		return CallCreateEnvironment
	case r.Method == http.MethodPost && strings.HasPrefix(path, "environment/") &&
		strings.HasSuffix(path, "/agents"):
		return CallAgentToken
	case strings.HasPrefix(path, "stream") || path == "":
		return ""
	}
	return "other"
}

// injectFault responds to r with the configured fault when it applies, and
// reports whether it did.
func (p *PureWeb) injectFault(w http.ResponseWriter, r *http.Request) bool {
	p.faults.mu.Lock()
	fault, target := p.faults.fault, p.faults.call
	p.faults.mu.Unlock()

	call := callOf(r)
	if fault == PlatformFaultNone || call == "" || (target != CallAny && target != call) {
		return false
	}
	p.logger.Info("simulating a platform failure", "fault", string(fault), "call", string(call))

	switch fault {
	case PlatformFaultRefuse:
		if hijacker, ok := w.(http.Hijacker); ok {
			if conn, _, err := hijacker.Hijack(); err == nil {
				conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler) // closes the connection without a response
	case PlatformFaultSlow:
		// The server notices a client that gives up only once the body has
		// been read, so read it first.
		io.Copy(io.Discard, io.LimitReader(r.Body, maxBodyBytes))
		wait(r, slowFaultLimit)
	case PlatformFaultUnauthorized:
		writeAPIError(w, http.StatusUnauthorized, "invalid_client", "simulated: invalid client credentials")
	case PlatformFaultForbidden:
		writeAPIError(w, http.StatusForbidden, "forbidden", "simulated: not allowed")
	case PlatformFaultServerError:
		writeAPIError(w, http.StatusInternalServerError, "server_error", "simulated: internal error")
	case PlatformFaultUnavailable:
		writeAPIError(w, http.StatusServiceUnavailable, "unavailable", "simulated: service unavailable")
	case PlatformFaultMalformedJSON:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token": "cut off`)
	case PlatformFaultEmptyJSON:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{}`)
	}
	return true
}

// handleSetFault switches faults over HTTP, for demos: a form post with the
// fields fault (a PlatformFault, empty to turn faults off) and call (a
// PlatformCall, empty for every call). Demo mode serves the emulator on
// loopback only, so only this machine can reach the switch.
func (p *PureWeb) handleSetFault(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	if err := r.ParseForm(); err != nil {
		writeAPIError(w, http.StatusBadRequest, "invalid_request", "the form could not be read")
		return
	}
	fault := PlatformFault(r.PostForm.Get("fault"))
	call := PlatformCall(r.PostForm.Get("call"))
	if err := p.SetFault(fault, call); err != nil {
		writeAPIError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"fault": string(fault), "call": string(call)})
}
