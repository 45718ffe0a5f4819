package emulator

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// Fault makes one sign-in fail in a chosen way, so that tests and demos can
// drive a relying party's error handling through its real code path. A fault
// is picked per sign-in on the emulator's sign-in page (the "Simulate a
// failure" list, form field "fault") or with Auth0.FailNextSignIn.
type Fault string

// The faults. Each names what goes wrong with the code exchange or the ID
// token that the exchange returns.
const (
	FaultNone           Fault = ""
	FaultProviderError  Fault = "provider_error"   // callback gets error=server_error instead of a code
	FaultRejectCode     Fault = "reject_code"      // the token endpoint rejects the code with invalid_grant
	FaultWrongIssuer    Fault = "wrong_issuer"     // iss names another tenant
	FaultWrongAudience  Fault = "wrong_audience"   // aud names another application
	FaultExpired        Fault = "expired"          // exp passed an hour ago
	FaultIssuedInFuture Fault = "issued_in_future" // iat and nbf an hour ahead
	FaultMissingNonce   Fault = "missing_nonce"    // no nonce claim
	FaultWrongNonce     Fault = "wrong_nonce"      // a nonce from another sign-in
	FaultBadSignature   Fault = "bad_signature"    // the signature does not match the payload
	FaultAlgNone        Fault = "alg_none"         // unsigned token with "alg": "none"
	FaultUnknownKey     Fault = "unknown_kid"      // signed by a key the JWKS never publishes
)

// Faults lists every fault with a label for the sign-in page.
var Faults = []struct {
	Fault Fault
	Label string
}{
	{FaultProviderError, "Provider error at the callback"},
	{FaultRejectCode, "Token endpoint rejects the code"},
	{FaultWrongIssuer, "ID token: wrong issuer"},
	{FaultWrongAudience, "ID token: wrong audience"},
	{FaultExpired, "ID token: expired"},
	{FaultIssuedInFuture, "ID token: issued in the future"},
	{FaultMissingNonce, "ID token: missing nonce"},
	{FaultWrongNonce, "ID token: wrong nonce"},
	{FaultBadSignature, "ID token: bad signature"},
	{FaultAlgNone, `ID token: "alg": "none"`},
	{FaultUnknownKey, "ID token: unknown signing key"},
}

// knownFault reports whether f is FaultNone or one of Faults.
func knownFault(f Fault) bool {
	if f == FaultNone {
		return true
	}
	for _, entry := range Faults {
		if entry.Fault == f {
			return true
		}
	}
	return false
}

// faultSwitch holds the fault for the next sign-in set with FailNextSignIn.
type faultSwitch struct {
	mu   sync.Mutex
	next Fault
}

// take returns the pending fault and clears it.
func (s *faultSwitch) take() Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.next
	s.next = FaultNone
	return f
}

// FailNextSignIn makes the next sign-in that completes, through the form or
// an SSO session, fail with f. A fault chosen on the sign-in form takes
// precedence, and f then waits for the following sign-in. An unknown fault
// is an error.
func (a *Auth0) FailNextSignIn(f Fault) error {
	if !knownFault(f) {
		return fmt.Errorf("emulator: auth0: unknown fault %q", f)
	}
	a.faults.mu.Lock()
	defer a.faults.mu.Unlock()
	a.faults.next = f
	return nil
}

// faultyIDToken signs the ID token claims with the damage that fault
// requests. It returns "" for faults that do not concern the ID token.
func (a *Auth0) faultyIDToken(fault Fault, claims idTokenClaims) (string, error) {
	now := a.now()
	switch fault {
	case FaultWrongIssuer:
		claims.Issuer = "https://another-tenant.invalid/"
	case FaultWrongAudience:
		claims.Audience = jwt.Audience{"another-application"}
	case FaultExpired:
		claims.IssuedAt = jwt.NewNumericDate(now.Add(-2 * time.Hour))
		claims.Expiry = jwt.NewNumericDate(now.Add(-time.Hour))
	case FaultIssuedInFuture:
		claims.IssuedAt = jwt.NewNumericDate(now.Add(time.Hour))
		claims.NotBefore = jwt.NewNumericDate(now.Add(time.Hour))
		claims.Expiry = jwt.NewNumericDate(now.Add(2 * time.Hour))
	case FaultMissingNonce:
		claims.Nonce = ""
	case FaultWrongNonce:
		claims.Nonce = rand.Text()
	case FaultBadSignature:
		token, err := a.keys.sign(claims)
		if err != nil {
			return "", err
		}
		return corruptSignature(token), nil
	case FaultAlgNone:
		return unsignedToken(claims)
	case FaultUnknownKey:
		key, err := newSigningKey()
		if err != nil {
			return "", err
		}
		return (&keyRing{current: key}).sign(claims)
	default:
		return "", nil
	}
	return a.keys.sign(claims)
}

// corruptSignature flips bits in the middle of a compact JWS signature.
func corruptSignature(token string) string {
	dot := strings.LastIndexByte(token, '.')
	signature, err := base64.RawURLEncoding.DecodeString(token[dot+1:])
	if err != nil || len(signature) == 0 {
		return token + "x"
	}
	signature[len(signature)/2] ^= 0xff
	return token[:dot+1] + base64.RawURLEncoding.EncodeToString(signature)
}

// unsignedToken builds an unsecured JWT (RFC 7519 section 6) with an empty
// signature, which relying parties must reject.
func unsignedToken(claims any) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(header) + "." + enc.EncodeToString(payload) + ".", nil
}
