package oidc

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestClaimsAccessors(t *testing.T) {
	c, v := vectorClient(t)
	claims, err := c.ValidateAt(context.Background(), v.Cases[0].Token, time.Unix(v.Now, 0))
	if err != nil {
		t.Fatal(err)
	}
	if claims.Subject() != "alice" || claims.Issuer() != "https://issuer.vectors.test" || claims.ClientID() != "svc" ||
		claims.ID() != "vector-jti" {
		t.Fatalf("%s", claims.Raw())
	}
	if !reflect.DeepEqual(claims.Audience(), []string{"api://vectors"}) {
		t.Fatal(claims.Audience())
	}
	if claims.String("scope") != "read write" {
		t.Fatal(claims.String("scope"))
	}
	if !claims.ExpiresAt().Equal(time.Unix(1800000300, 0)) || !claims.IssuedAt().Equal(time.Unix(1799999990, 0)) ||
		!claims.NotBefore().Equal(time.Unix(1799999990, 0)) {
		t.Fatal(claims.ExpiresAt(), claims.IssuedAt(), claims.NotBefore())
	}
	if got, ok := claims.Get("sub"); !ok || got != "alice" {
		t.Fatal(got)
	}
	if _, ok := claims.Get("nope"); ok || !claims.Time("nope").IsZero() {
		t.Fatal("absent claim")
	}
	var reg struct {
		Sub string `json:"sub"`
		Exp int64  `json:"exp"`
	}
	if err := claims.Decode(&reg); err != nil || reg.Sub != "alice" || reg.Exp != 1800000300 {
		t.Fatal(reg, err)
	}
	b, err := json.Marshal(map[string]any{"claims": claims})
	if err != nil || len(b) < 50 {
		t.Fatal(string(b), err)
	}
	// The array-audience vector.
	claims, err = c.ValidateAt(context.Background(), v.Cases[4].Token, time.Unix(v.Now, 0))
	if err != nil || !reflect.DeepEqual(claims.Audience(), []string{"other", "api://vectors"}) {
		t.Fatal(claims.Audience(), err)
	}
}
