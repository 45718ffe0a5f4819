package emulator

import (
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

func newTestSigner(t *testing.T) *platformSigner {
	t.Helper()
	signer, err := newPlatformSigner()
	if err != nil {
		t.Fatalf("newPlatformSigner: %v", err)
	}
	return signer
}

func signTestToken(t *testing.T, signer *platformSigner, scope string) string {
	t.Helper()
	now := time.Now()
	token, err := signer.sign(platformClaims{
		Claims: jwt.Claims{
			Issuer:   pureWebIssuer,
			Audience: jwt.Audience{DemoProjectID},
			Expiry:   jwt.NewNumericDate(now.Add(time.Hour)),
		},
		TokenUse: tokenUseAccess,
		Scope:    scope,
	})
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return token
}

func TestPlatformSignerVerifiesRepeatedToken(t *testing.T) {
	signer := newTestSigner(t)
	token := signTestToken(t, signer, "*:*")

	for i := range 2 {
		claims, err := signer.verifySignature(token)
		if err != nil {
			t.Fatalf("verifySignature, call %d: %v", i+1, err)
		}
		if claims.Scope != "*:*" || !claims.Audience.Contains(DemoProjectID) {
			t.Errorf("verifySignature, call %d: claims %+v, want scope *:* for %s",
				i+1, claims, DemoProjectID)
		}
	}
	if !strings.HasPrefix(token, "eyJhbGciOiJFZERTQSIs") {
		t.Errorf("token header = %q, want alg EdDSA first", strings.Split(token, ".")[0])
	}
}

func TestPlatformSignerRejectsTamperedCachedToken(t *testing.T) {
	signer := newTestSigner(t)
	token := signTestToken(t, signer, "model:read")
	if _, err := signer.verifySignature(token); err != nil {
		t.Fatalf("verifySignature of the original: %v", err)
	}

	forged := tamper(t, token, map[string]any{
		"iss": pureWebIssuer, "aud": DemoProjectID, "scope": "*:*",
		"exp": time.Now().Add(time.Hour).Unix(), "token_use": tokenUseAccess,
	})
	if _, err := signer.verifySignature(forged); err == nil {
		t.Error("verifySignature of a token with an edited payload succeeded, want an error")
	}
	other := newTestSigner(t)
	if _, err := other.verifySignature(token); err == nil {
		t.Error("verifySignature with another emulator's key succeeded, want an error")
	}
}

func TestPlatformSignerBoundsVerifiedTokens(t *testing.T) {
	signer := newTestSigner(t)
	for range maxVerifiedTokens + 1 {
		if _, err := signer.verifySignature(signTestToken(t, signer, "*:*")); err != nil {
			t.Fatalf("verifySignature: %v", err)
		}
	}
	if n := len(signer.verified); n > maxVerifiedTokens {
		t.Errorf("verified tokens kept = %d, want at most %d", n, maxVerifiedTokens)
	}
}
