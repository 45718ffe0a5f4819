package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// rsaKeyBits is the size of generated signing keys, the size Auth0 uses.
const rsaKeyBits = 2048

// errMissingExpiry rejects tokens without an exp claim, which go-jose's
// claim validation would otherwise accept as never expiring.
var errMissingExpiry = errors.New("token has no exp claim")

// signingKey is one RSA key with its key ID and a JWS signer for it.
type signingKey struct {
	private *rsa.PrivateKey
	id      string
	signer  jose.Signer
}

func newSigningKey() (*signingKey, error) {
	private, err := rsa.GenerateKey(rand.Reader, rsaKeyBits)
	if err != nil {
		return nil, fmt.Errorf("generate rsa key: %w", err)
	}

	id := rand.Text()
	key := jose.JSONWebKey{
		Key:       private,
		KeyID:     id,
		Algorithm: string(jose.RS256),
		Use:       "sig",
	}
	options := (&jose.SignerOptions{}).WithType("JWT")
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, options)
	if err != nil {
		return nil, fmt.Errorf("create signer: %w", err)
	}
	return &signingKey{private: private, id: id, signer: signer}, nil
}

func (k *signingKey) publicJWK() jose.JSONWebKey {
	return jose.JSONWebKey{
		Key:       &k.private.PublicKey,
		KeyID:     k.id,
		Algorithm: string(jose.RS256),
		Use:       "sig",
	}
}

// keyRing signs with its current key and verifies signatures made with the
// current or the previous key, so tokens issued just before a rotation stay
// valid, as they do at Auth0 while a rotated key is still published.
type keyRing struct {
	mu       sync.RWMutex
	current  *signingKey
	previous *signingKey
}

func newKeyRing() (*keyRing, error) {
	key, err := newSigningKey()
	if err != nil {
		return nil, err
	}
	return &keyRing{current: key}, nil
}

// rotate makes a new key current and keeps the old one for verification.
func (r *keyRing) rotate() error {
	key, err := newSigningKey()
	if err != nil {
		return err
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	r.previous, r.current = r.current, key
	return nil
}

// sign serializes the merged claims as a compact RS256 JWT whose header
// carries the current key ID.
func (r *keyRing) sign(claims ...any) (string, error) {
	r.mu.RLock()
	signer := r.current.signer
	r.mu.RUnlock()

	builder := jwt.Signed(signer)
	for _, c := range claims {
		builder = builder.Claims(c)
	}
	token, err := builder.Serialize()
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return token, nil
}

// publicKeySet returns the public halves of the current and previous keys.
func (r *keyRing) publicKeySet() jose.JSONWebKeySet {
	r.mu.RLock()
	defer r.mu.RUnlock()

	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{r.current.publicJWK()}}
	if r.previous != nil {
		set.Keys = append(set.Keys, r.previous.publicJWK())
	}
	return set
}

// verifySignature parses raw as an RS256 JWT, checks its signature against
// the key named by its kid header and decodes the payload into each dest.
// It checks no claims: call validateClaims for that.
func (r *keyRing) verifySignature(raw string, dest ...any) error {
	token, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return fmt.Errorf("parse token: %w", err)
	}

	if err := token.Claims(r.publicKeySet(), dest...); err != nil {
		return fmt.Errorf("verify token signature: %w", err)
	}
	return nil
}

// validateClaims checks iss, aud, exp, nbf and iat against expected with no
// leeway, and rejects a token without exp. A token is expired from the
// instant of its exp on, because RFC 7519 section 4.1.4 requires the current
// time to be before exp, while go-jose still accepts a token at that instant.
func validateClaims(claims jwt.Claims, expected jwt.Expected, now time.Time) error {
	if claims.Expiry == nil {
		return errMissingExpiry
	}
	if !now.Before(claims.Expiry.Time()) {
		return jwt.ErrExpired
	}
	return claims.ValidateWithLeeway(expected.WithTime(now), 0)
}
