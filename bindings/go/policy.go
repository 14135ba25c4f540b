package oidc

/*
#include <oidc.h>
*/
import "C"

import (
	"context"
	"encoding/json"
	"net/http"
	"runtime"
	"time"
	"unsafe"
)

// loadPolicy loads cfg.PolicyFile, then cfg.Policy, into b (before the other Config fields).
func loadPolicy(b *C.oidc_validator_builder, cfg *Config) error {
	var e *C.oidc_error
	if cfg.PolicyFile != "" {
		p, n := cstr(cfg.PolicyFile)
		rc := C.oidc_validator_builder_load_policy_file(b, p, n, &e)
		runtime.KeepAlive(cfg.PolicyFile)
		if rc != 0 {
			return errorFrom(rc, e)
		}
	}
	if cfg.Policy != nil {
		p, n := cstr(bytesView(cfg.Policy))
		rc := C.oidc_validator_builder_load_policy(b, p, n, &e)
		runtime.KeepAlive(cfg.Policy)
		if rc != 0 {
			return errorFrom(rc, e)
		}
	}
	return nil
}

// fromPolicy completes a Client built with a policy document: the realm and the HTTP timeout
// the document may have set (Client.Realm, and how long a call can block: see blocking.go) are
// read back from the built validator's own export.
func (c *Client) fromPolicy() error {
	doc, err := c.Policy()
	if err != nil {
		return err
	}
	var p struct {
		Realm *string `json:"realm"`
		HTTP  struct {
			TotalTimeoutMS int64 `json:"total_timeout_ms"`
		} `json:"http"`
	}
	if err := json.Unmarshal(doc, &p); err != nil {
		return &Error{Code: CodeInternal, Name: CodeInternal.String(), HTTPStatus: 500,
			Message: "the exported policy document is not JSON: " + err.Error()}
	}
	if p.Realm != nil {
		c.realm = *p.Realm
	}
	if p.HTTP.TotalTimeoutMS > 0 {
		c.bound = worstCase(time.Duration(p.HTTP.TotalTimeoutMS) * time.Millisecond)
	}
	return nil
}

// Policy returns the client's configuration as a policy document (JSON, "version": 1, every
// member written, defaults included; oidc_validator_policy_json). Config.Policy set to it builds
// a client that decides the same; it does not hold DPoPNonceSecret, DPoPReplayStore, Prefetch or
// DecryptionKeys (secrets: set them as Config fields next to Config.Policy). DecryptionAlgorithms,
// AcceptEncrypted and Revocation are in it (members "decryption" and "revocation").
func (c *Client) Policy() (json.RawMessage, error) {
	return withValidator(c, func(p *C.oidc_validator) (json.RawMessage, error) {
		return ownedJSON(func(out **C.char, n *C.size_t, e **C.oidc_error) C.oidc_result {
			return C.oidc_validator_policy_json(p, out, n, e)
		})
	})
}

// withValidator runs f with the client's validator under its read lock: ErrClosed after Close.
// A nil *Client hands NULL to liboidc, which answers CodeNullParameter.
func withValidator[T any](c *Client, f func(p *C.oidc_validator) (T, error)) (T, error) {
	if c == nil {
		return f(nil)
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ptr == nil {
		var zero T
		return zero, ErrClosed
	}
	maybeGC()
	return f(c.ptr)
}

// run runs f as Validate runs its call (blocking.go): ctx first, then on this goroutine unless
// ctx has a deadline sooner than the longest the call can block.
func (c *Client) run(ctx context.Context, f func() (*Explanation, error)) (*Explanation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c == nil || deadlineAfter(ctx, c.bound) {
		return f()
	}
	return await(ctx, f)
}

// Explanation is liboidc's explain-mode document (JSON): every check of a validation or of a
// request decision with its outcome, not only the first failure. It names the issuer chosen and
// why, the key and signature check and each claim rule (for a request also the credentials,
// the DPoP proof, the binding, each scope and claim-value rule). It holds no secret: never the
// token or proof text or the signature; from the token only alg, a bounded kid and iss, the
// tenant and exp/nbf/iat. Its shape is liboidc's (README "Several issuers, tenant templates,
// policy documents, explain mode"); the binding does not interpret it beyond Allowed.
type Explanation struct {
	raw []byte
}

// Raw returns the document as liboidc wrote it.
func (x *Explanation) Raw() json.RawMessage { return x.raw }

// String returns the document as text.
func (x *Explanation) String() string { return string(x.raw) }

// MarshalJSON returns the document unchanged, so that an Explanation embeds in other JSON.
func (x *Explanation) MarshalJSON() ([]byte, error) { return x.raw, nil }

// Decode unmarshals the document into v (a map[string]any, or a struct of the members you need).
func (x *Explanation) Decode(v any) error { return json.Unmarshal(x.raw, v) }

// Allowed reports liboidc's decision, the document's "decision" member: true for "allow".
func (x *Explanation) Allowed() bool {
	var d struct {
		Decision string `json:"decision"`
	}
	return json.Unmarshal(x.raw, &d) == nil && d.Decision == "allow"
}

// Explain explains the validation of token as of now (oidc_validate_explain). A token that
// Validate would refuse is not an error: the Explanation says "deny" and why. The error is
// non-nil only when nothing was explained: ErrClosed, ctx.Err() (ctx bounds the call as for
// Validate: explaining may fetch keys), or an *Error for a misuse. The verified-token cache is
// not used.
func (c *Client) Explain(ctx context.Context, token string) (*Explanation, error) {
	return c.explain(ctx, token, 0)
}

// ExplainAt is Explain with exp/nbf/iat checked as of t (as ValidateAt). A t of the Unix epoch
// (0) means now.
func (c *Client) ExplainAt(ctx context.Context, token string, t time.Time) (*Explanation, error) {
	return c.explain(ctx, token, t.Unix())
}

func (c *Client) explain(ctx context.Context, token string, now int64) (*Explanation, error) {
	return c.run(ctx, func() (*Explanation, error) {
		return withValidator(c, func(p *C.oidc_validator) (*Explanation, error) {
			tp, tn := cstr(token)
			b, err := ownedJSON(func(out **C.char, n *C.size_t, e **C.oidc_error) C.oidc_result {
				return C.oidc_validate_explain(p, tp, tn, C.int64_t(now), out, n, e)
			})
			runtime.KeepAlive(token)
			if err != nil {
				return nil, err
			}
			return &Explanation{raw: b}, nil
		})
	})
}

// ExplainHTTPRequest explains the decision Authenticate would make about r
// (ExplainRequest(r.Context(), RequestFromHTTP(r, opts...))).
func (c *Client) ExplainHTTPRequest(r *http.Request, opts ...RequestOption) (*Explanation, error) {
	return c.ExplainRequest(r.Context(), RequestFromHTTP(r, opts...))
}

// ExplainRequest explains the decision AuthenticateRequest would make about req
// (oidc_authenticate_explain): the credentials, the DPoP proof and nonce, the token's own
// explanation (as Explain), the binding, each required scope and claim-value rule. It has no
// side effect (a DPoP proof's jti is not recorded). A request that would be denied is not an
// error: the Explanation says "deny". The error is non-nil only when nothing was explained:
// ErrClosed, ctx.Err(), or an *Error for a request the host described wrongly (no method, a URL
// that is not absolute http(s): CodeInvalidArgument).
func (c *Client) ExplainRequest(ctx context.Context, req *Request) (*Explanation, error) {
	return c.run(ctx, func() (*Explanation, error) {
		return withValidator(c, func(p *C.oidc_validator) (*Explanation, error) {
			var r *C.oidc_http_request // a nil req stays NULL: liboidc answers CodeNullParameter
			if req != nil {
				var err error
				if r, err = requestObject(req); err != nil {
					return nil, err
				}
				defer C.oidc_http_request_free(r)
			}
			b, err := ownedJSON(func(out **C.char, n *C.size_t, e **C.oidc_error) C.oidc_result {
				return C.oidc_authenticate_explain(p, r, out, n, e)
			})
			if err != nil {
				return nil, err
			}
			return &Explanation{raw: b}, nil
		})
	})
}

// requestObject makes an oidc_http_request holding all of req (AuthenticateRequest's shim
// go_oidc_authenticate does the same in C for speed).
func requestObject(req *Request) (*C.oidc_http_request, error) {
	r, err := newRequestObject(req)
	if err != nil {
		return nil, err
	}
	var e *C.oidc_error
	fail := func(rc C.oidc_result) (*C.oidc_http_request, error) {
		C.oidc_http_request_free(r)
		return nil, errorFrom(rc, e)
	}
	mp, mn := cstr(req.Method)
	rc := C.oidc_http_request_set_method(r, mp, mn, &e)
	runtime.KeepAlive(req.Method)
	if rc != 0 {
		return fail(rc)
	}
	up, un := cstr(req.URL)
	rc = C.oidc_http_request_set_url(r, up, un, &e)
	runtime.KeepAlive(req.URL)
	if rc != 0 {
		return fail(rc)
	}
	if len(req.ClientCert) > 0 {
		cp, cn := cstr(bytesView(req.ClientCert))
		rc = C.oidc_http_request_set_client_cert(r, (*C.uint8_t)(unsafe.Pointer(cp)), cn, &e)
		runtime.KeepAlive(req.ClientCert)
		if rc != 0 {
			return fail(rc)
		}
	}
	if !req.Now.IsZero() {
		if rc = C.oidc_http_request_set_now(r, C.int64_t(req.Now.Unix()), &e); rc != 0 {
			return fail(rc)
		}
	}
	return r, nil
}
