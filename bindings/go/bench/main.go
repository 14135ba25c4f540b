// Command bench compares, in one run and on the same tokens with warm keys, this binding's
// Client.Validate with the raw C ABI called from Go and with golang-jwt v5 + keyfunc v3.
//
//	cd bindings/go/bench && go run . [-rounds 15] [-round-ms 100] [-algs RS256,ES256,EdDSA]
//
// Time is process CPU time per operation (CLOCK_PROCESS_CPUTIME_ID: includes the Go GC's
// background workers, excludes time the process was preempted by other load on a shared
// machine); wall-clock time is printed next to it. Rounds of all measurements of one algorithm
// are interleaved (in a random order per round) and the median round is reported with its
// spread ((max-min)/median). Differences ("overhead") are medians of per-round differences.
package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/liboidc/liboidc/bindings/go"
)

const (
	issuer   = "https://issuer.bench.test"
	audience = "api://bench"
)

var (
	rounds    = flag.Int("rounds", 15, "interleaved rounds per measurement")
	roundMS   = flag.Int("round-ms", 100, "target duration of one round in ms")
	algList   = flag.String("algs", "RS256,ES256,EdDSA", "algorithms")
	studyOnly = flag.String("study-only", "", "run only the study workloads whose name contains this (for perf)")
	sections  = flag.String("sections", "validate,cache,study", "what to run: validate (vs golang-jwt), cache (the verified-token "+
		"cache and request authentication, RS256), study (where a cgo call's extra process CPU goes)")
)

type measurement struct {
	name string
	run  func(n int) error
	cpu  []float64 // ns/op per round
	wall []float64
	n    int
}

func main() {
	flag.Parse()
	fmt.Printf("liboidc %s, %s, GOMAXPROCS=%d, %s/%s, golang-jwt/jwt/v5 + MicahParks/keyfunc/v3\n",
		oidc.Version(), runtime.Version(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	fmt.Printf("%d rounds of %d ms per measurement, interleaved; median ns/op (process CPU), spread, wall ns/op\n\n",
		*rounds, *roundMS)
	fmt.Printf("load average at start: %s\n", loadavg())
	defer func() { fmt.Printf("load average at end: %s\n", loadavg()) }()
	failed := false
	want := map[string]bool{}
	for _, s := range strings.Split(*sections, ",") {
		want[strings.TrimSpace(s)] = true
	}
	if want["validate"] {
		for _, alg := range strings.Split(*algList, ",") {
			if err := benchAlg(strings.TrimSpace(alg)); err != nil {
				fmt.Fprintln(os.Stderr, alg+":", err)
				failed = true
			}
		}
	}
	if want["cache"] {
		if err := benchCache(); err != nil {
			fmt.Fprintln(os.Stderr, "cache:", err)
			failed = true
		}
	}
	if want["study"] {
		if err := cgoStudy(); err != nil {
			fmt.Fprintln(os.Stderr, "study:", err)
			failed = true
		}
	}
	if failed {
		fmt.Printf("load average at end: %s\n", loadavg())
		os.Exit(1)
	}
}

func benchAlg(alg string) error {
	key, err := newKey(alg)
	if err != nil {
		return err
	}
	jwks := key.jwks()
	tok := key.sign(claims())
	tampered := tok[:len(tok)-4] + flip(tok[len(tok)-4:])

	// This binding.
	// Full validations: the verified-token cache is off here (cache.go measures it).
	client, err := oidc.NewClient(oidc.Config{Issuer: issuer, Audiences: []string{audience}, ExpectedTyp: "at+jwt",
		Algorithms: []string{alg}, JWKSJSON: jwks, TokenCacheSize: oidc.TokenCacheOff})
	if err != nil {
		return err
	}
	defer client.Close()
	// The raw C ABI, same configuration.
	raw, err := newRawClient(issuer, audience, jwks, 0)
	if err != nil {
		return err
	}
	defer raw.close()
	// golang-jwt v5 with a keyfunc v3 JWKS, same policy (alg, iss, aud, exp required, iat,
	// 60 s leeway, typ at+jwt).
	kf, err := keyfunc.NewJWKSetJSON(jwks)
	if err != nil {
		return err
	}
	keyFn := func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); typ != "at+jwt" {
			return nil, errors.New("typ")
		}
		return kf.Keyfunc(t)
	}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{alg}), jwt.WithIssuer(issuer), jwt.WithAudience(audience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(60*time.Second))

	bg := context.Background()
	reqCtx, cancel := context.WithCancel(bg) // like an http.Request's context
	defer cancel()

	// Correctness first: all accept the token and reject the tampered one.
	if c, err := client.Validate(bg, tok); err != nil || c.Subject() != "user-1234567890" {
		return fmt.Errorf("binding: %v", err)
	}
	if _, err := client.Validate(bg, tampered); !errors.Is(err, oidc.ErrSignatureInvalid) {
		return fmt.Errorf("binding accepted a tampered token: %v", err)
	}
	if err := raw.once(tok); err != nil {
		return err
	}
	if !key.verify(tok) || key.verify(tampered) {
		return errors.New("Go crypto verify disagrees")
	}
	if t, err := parser.Parse(tok, keyFn); err != nil || !t.Valid {
		return fmt.Errorf("golang-jwt: %v", err)
	}
	if _, err := parser.Parse(tampered, keyFn); err == nil {
		return errors.New("golang-jwt accepted a tampered token")
	}

	ms := []*measurement{
		{name: "C: oidc_validate loop in C (no Go)", run: func(n int) error { return raw.loop(tok, n) }},
		{name: "cgo: one raw C call per token", run: func(n int) error {
			for i := 0; i < n; i++ {
				if err := raw.once(tok); err != nil {
					return err
				}
			}
			return nil
		}},
		{name: "binding: Validate(Background)", run: func(n int) error {
			for i := 0; i < n; i++ {
				if _, err := client.Validate(bg, tok); err != nil {
					return err
				}
			}
			return nil
		}},
		{name: "binding: Validate(request ctx)", run: func(n int) error {
			for i := 0; i < n; i++ {
				if _, err := client.Validate(reqCtx, tok); err != nil {
					return err
				}
			}
			return nil
		}},
		{name: "binding: Validate(20 s deadline ctx)", run: func(n int) error {
			// A deadline sooner than the client's worst case (3 x 10 s): the helper goroutine.
			deadlineCtx, cancel := context.WithTimeout(bg, 20*time.Second)
			defer cancel()
			for i := 0; i < n; i++ {
				if _, err := client.Validate(deadlineCtx, tok); err != nil {
					return err
				}
			}
			return nil
		}},
		{name: "binding: Validate + claims map", run: func(n int) error {
			for i := 0; i < n; i++ {
				c, err := client.Validate(bg, tok)
				if err != nil {
					return err
				}
				if c.Map()["sub"] == nil {
					return errors.New("no sub")
				}
			}
			return nil
		}},
		{name: "Go crypto: signature check only", run: func(n int) error {
			for i := 0; i < n; i++ {
				if !key.verify(tok) {
					return errors.New("Go crypto rejected the signature")
				}
			}
			return nil
		}},
		{name: "golang-jwt: Parse MapClaims", run: func(n int) error {
			for i := 0; i < n; i++ {
				t, err := parser.Parse(tok, keyFn)
				if err != nil {
					return err
				}
				if t.Claims.(jwt.MapClaims)["sub"] == nil {
					return errors.New("no sub")
				}
			}
			return nil
		}},
		{name: "golang-jwt: ParseWithClaims Registered", run: func(n int) error {
			for i := 0; i < n; i++ {
				var rc jwt.RegisteredClaims
				if _, err := parser.ParseWithClaims(tok, &rc, keyFn); err != nil {
					return err
				}
				if rc.Subject == "" {
					return errors.New("no sub")
				}
			}
			return nil
		}},
	}
	med, paired, err := measure(fmt.Sprintf("%s (token %d bytes, verified-token cache off)", alg, len(tok)), ms)
	if err != nil {
		return err
	}
	b := med["binding: Validate(Background)"]
	fmt.Printf("  ratios (cpu):\n")
	fmt.Printf("    golang-jwt MapClaims / binding Validate            %.2fx\n", med["golang-jwt: Parse MapClaims"]/b)
	fmt.Printf("    golang-jwt MapClaims / binding Validate+claims map %.2fx\n",
		med["golang-jwt: Parse MapClaims"]/med["binding: Validate + claims map"])
	fmt.Printf("    golang-jwt Registered / binding Validate           %.2fx\n", med["golang-jwt: ParseWithClaims Registered"]/b)
	fmt.Printf("  binding overhead per call (cpu, median of paired rounds): %+.0f ns over one raw cgo call; "+
		"cgo call %+.0f ns over the C loop; request ctx %+.0f ns; helper goroutine %+.0f ns; claims map %+.0f ns\n\n",
		paired("binding: Validate(Background)", "cgo: one raw C call per token"),
		paired("cgo: one raw C call per token", "C: oidc_validate loop in C (no Go)"),
		paired("binding: Validate(request ctx)", "binding: Validate(Background)"),
		paired("binding: Validate(20 s deadline ctx)", "binding: Validate(Background)"),
		paired("binding: Validate + claims map", "binding: Validate(Background)"))
	return nil
}

// measure calibrates and runs ms in interleaved rounds, prints the table and returns the medians
// and a function giving the median of per-round differences of two measurements (both sides
// of a pair run back to back in every round, so both see the same load).
func measure(title string, ms []*measurement) (map[string]float64, func(a, b string) float64, error) {
	for _, m := range ms {
		if err := calibrate(m); err != nil {
			return nil, nil, fmt.Errorf("%s: %v", m.name, err)
		}
	}
	for r := 0; r < *rounds; r++ {
		for _, i := range mrand.Perm(len(ms)) { // a fresh order each round: no neighbour bias
			m := ms[i]
			runtime.GC()
			c0, w0 := processCPU(), time.Now()
			if err := m.run(m.n); err != nil {
				return nil, nil, err
			}
			c1, w1 := processCPU(), time.Now()
			m.cpu = append(m.cpu, float64(c1-c0)/float64(m.n))
			m.wall = append(m.wall, float64(w1.Sub(w0).Nanoseconds())/float64(m.n))
		}
	}
	fmt.Println(title)
	fmt.Printf("  %-48s %11s %7s %11s\n", "measurement", "ns/op(cpu)", "spread", "ns/op(wall)")
	med := map[string]float64{}
	byName := map[string]*measurement{}
	for _, m := range ms {
		c, sp := median(m.cpu)
		w, _ := median(m.wall)
		med[m.name] = c
		byName[m.name] = m
		fmt.Printf("  %-48s %11.0f %6.0f%% %11.0f\n", m.name, c, sp*100, w)
	}
	paired := func(a, b string) float64 {
		var d []float64
		for r := range byName[a].cpu {
			d = append(d, byName[a].cpu[r]-byName[b].cpu[r])
		}
		sort.Float64s(d)
		return d[len(d)/2]
	}
	return med, paired, nil
}

// calibrate picks n so that one round takes about round-ms of wall time.
func calibrate(m *measurement) error {
	n := 16
	for {
		start := time.Now()
		if err := m.run(n); err != nil {
			return err
		}
		d := time.Since(start)
		if d >= time.Duration(*roundMS)*time.Millisecond/4 {
			m.n = int(float64(n) * float64(time.Duration(*roundMS)*time.Millisecond) / float64(d))
			if m.n < 1 {
				m.n = 1
			}
			return nil
		}
		n *= 2
	}
}

// loadavg is /proc/loadavg's 1, 5 and 15 minute averages.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func median(xs []float64) (med, spread float64) {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	med = s[len(s)/2]
	return med, (s[len(s)-1] - s[0]) / med
}

func flip(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

// ---- tokens -----------------------------------------------------------------------------------

type key struct {
	alg  string
	priv crypto.Signer
}

func newKey(alg string) (*key, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case "RS256":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		err = fmt.Errorf("unsupported alg %q", alg)
	}
	return &key{alg: alg, priv: priv}, err
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (k *key) kid() string { return "bench-" + strings.ToLower(k.alg) }

func (k *key) jwks() []byte {
	m := map[string]any{"kid": k.kid(), "alg": k.alg, "use": "sig"}
	switch p := k.priv.Public().(type) {
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", b64(p.N.Bytes()), b64(big.NewInt(int64(p.E)).Bytes())
	case *ecdsa.PublicKey:
		m["kty"], m["crv"] = "EC", "P-256"
		m["x"], m["y"] = b64(p.X.FillBytes(make([]byte, 32))), b64(p.Y.FillBytes(make([]byte, 32)))
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", b64(p)
	}
	b, _ := json.Marshal(map[string]any{"keys": []any{m}})
	return b
}

// claims of an RFC 9068 access token, valid for ten years.
func claims() map[string]any {
	now := time.Now().Unix()
	return map[string]any{"iss": issuer, "sub": "user-1234567890", "aud": []string{audience, "api://other"},
		"exp": now + 10*365*86400, "iat": now, "nbf": now, "jti": "4f1c2b8e-6a0d-4c8e-9d41-0b7f7c3e2a91",
		"client_id": "svc-bench", "scope": "openid profile email read write"}
}

// verify checks only the signature with Go's crypto (base64 decoding and hashing included):
// the floor under golang-jwt.
func (k *key) verify(tok string) bool {
	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		return false
	}
	d := sha256.Sum256([]byte(tok[:i]))
	switch p := k.priv.Public().(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(p, crypto.SHA256, d[:], sig) == nil
	case *ecdsa.PublicKey:
		if len(sig) != 64 {
			return false
		}
		return ecdsa.Verify(p, d[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
	case ed25519.PublicKey:
		return ed25519.Verify(p, []byte(tok[:i]), sig)
	}
	return false
}

func (k *key) sign(claims map[string]any) string {
	h, _ := json.Marshal(map[string]any{"alg": k.alg, "kid": k.kid(), "typ": "at+jwt"})
	c, _ := json.Marshal(claims)
	input := b64(h) + "." + b64(c)
	d := sha256.Sum256([]byte(input))
	var sig []byte
	switch p := k.priv.(type) {
	case *rsa.PrivateKey:
		sig, _ = rsa.SignPKCS1v15(rand.Reader, p, crypto.SHA256, d[:])
	case *ecdsa.PrivateKey:
		r, s, _ := ecdsa.Sign(rand.Reader, p, d[:])
		sig = append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	case ed25519.PrivateKey:
		sig = ed25519.Sign(p, []byte(input))
	}
	return input + "." + b64(sig)
}
