package emulator

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// platformSigner signs and verifies the PureWeb emulator's tokens with one
// Ed25519 key, as EdDSA JWTs (RFC 8037). It is safe for concurrent use.
//
// NOTE: PureWeb does not document how its tokens are signed, and the
// application passes them on without reading them, so only the emulator
// verifies them. The emulator signs two tokens per launch, and RSA-2048
// signing (about 0.7 ms per signature on a 2-core AMD EPYC) would make the
// emulator rather than the application the limit of a load test. An Ed25519
// signature takes about 0.02 ms on the same machine.
type platformSigner struct {
	public ed25519.PublicKey
	signer jose.Signer

	// verified maps each token whose signature verified to its claims, so
	// that the admin token the application sends with every environment
	// call is verified once. It is emptied when it reaches maxVerifiedTokens.
	mu       sync.Mutex
	verified map[string]platformClaims
}

// maxVerifiedTokens bounds platformSigner.verified.
const maxVerifiedTokens = 256

func newPlatformSigner() (*platformSigner, error) {
	public, private, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate ed25519 key: %w", err)
	}

	options := (&jose.SignerOptions{}).WithType("JWT")
	key := jose.SigningKey{Algorithm: jose.EdDSA, Key: private}
	signer, err := jose.NewSigner(key, options)
	if err != nil {
		return nil, fmt.Errorf("create signer: %w", err)
	}
	return &platformSigner{
		public:   public,
		signer:   signer,
		verified: make(map[string]platformClaims),
	}, nil
}

// sign serializes claims as a compact EdDSA JWT. It signs the JSON of
// claims directly rather than through go-jose's jwt builder, which encodes
// and decodes the claims once more to merge claim sets.
func (s *platformSigner) sign(claims platformClaims) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	signature, err := s.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return signature.CompactSerialize()
}

// verifySignature parses raw as an EdDSA JWT, checks its signature and
// returns its claims. It checks no claims: call validateClaims for that.
func (s *platformSigner) verifySignature(raw string) (platformClaims, error) {
	s.mu.Lock()
	claims, ok := s.verified[raw]
	s.mu.Unlock()
	if ok {
		return claims, nil
	}

	token, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return platformClaims{}, fmt.Errorf("parse token: %w", err)
	}
	if err := token.Claims(s.public, &claims); err != nil {
		return platformClaims{}, fmt.Errorf("verify token signature: %w", err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.verified) >= maxVerifiedTokens {
		clear(s.verified)
	}
	s.verified[raw] = claims
	return claims, nil
}
