package oidc

import (
	"context"
	"errors"
	"net/http"
	"time"
)

type decisionKey struct{}

// NewContext returns a copy of ctx carrying claims as an allowed decision's (for tests of
// handlers that read ClaimsFromContext).
func NewContext(ctx context.Context, claims *Claims) context.Context {
	return ContextWithDecision(ctx, &Decision{Allowed: true, Code: CodeOK, Status: http.StatusOK, Message: "allowed", Claims: claims})
}

// ContextWithDecision returns a copy of ctx carrying d (what Middleware does for each allowed
// request).
func ContextWithDecision(ctx context.Context, d *Decision) context.Context {
	return context.WithValue(ctx, decisionKey{}, d)
}

// DecisionFromContext returns the allowed decision Middleware made for this request: the
// claims (d.Claims) and the token type (d.TokenType, "Bearer" or "DPoP").
func DecisionFromContext(ctx context.Context) (*Decision, bool) {
	d, ok := ctx.Value(decisionKey{}).(*Decision)
	return d, ok && d != nil
}

// ClaimsFromContext returns the claims of the token Middleware allowed for this request.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	d, ok := DecisionFromContext(ctx)
	if !ok || d.Claims == nil {
		return nil, false
	}
	return d.Claims, true
}

// MiddlewareOption configures Middleware: a RequestOption (WithOrigin, TrustForwardedHeaders)
// or WithErrorHandler. What a request must satisfy is the Client's configuration
// (Config.RequiredScopes, AllowedClaimValues, DPoP, RequireMTLS), never the middleware's.
type MiddlewareOption interface {
	applyMiddleware(*middleware)
}

type middlewareFunc func(*middleware)

func (f middlewareFunc) applyMiddleware(m *middleware) { f(m) }

// ErrorHandler answers a request Middleware does not let through. Exactly one of d and err is
// non-nil: d is liboidc's denial (answer with d.WriteError, or log and then do so); err says
// that no decision was made (ErrClosed, the request context ended, or an *Error for a request
// liboidc could not read, such as one without a host).
type ErrorHandler func(w http.ResponseWriter, r *http.Request, d *Decision, err error)

// WithErrorHandler replaces DefaultErrorHandler.
func WithErrorHandler(h ErrorHandler) MiddlewareOption {
	return middlewareFunc(func(m *middleware) { m.onError = h })
}

// DefaultErrorHandler answers a denial with d.WriteError (the decision's status, each
// WWW-Authenticate value on its own line, DPoP-Nonce, a short body). Without a decision it
// answers 503 when the request context ended and 500 otherwise, with no challenge.
func DefaultErrorHandler(w http.ResponseWriter, _ *http.Request, d *Decision, err error) {
	if d != nil {
		d.WriteError(w)
		return
	}
	status := http.StatusInternalServerError
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, http.StatusText(status), status)
}

type middleware struct {
	client  *Client
	req     requestOptions
	onError ErrorHandler
	now     time.Time // tests: a fixed clock (Request.Now)
}

// Middleware protects an http.Handler with liboidc's request authentication
// (Client.AuthenticateRequest): for each request it passes every Authorization and DPoP header
// line, the method, the absolute URL (see RequestFromHTTP; WithOrigin and
// TrustForwardedHeaders behind a proxy) and the mTLS client certificate to liboidc, and
//
//   - when allowed, calls next with the decision in the request context (ClaimsFromContext,
//     DecisionFromContext) and a DPoP-Nonce response header when liboidc issued one;
//   - when denied, answers with the decision's status (400, 401, 403, 503), each of its
//     WWW-Authenticate values as its own header line, its DPoP-Nonce if any, and a short body
//     (WithErrorHandler replaces this answer).
//
// The whole decision is liboidc's, made by the same core as in every other language: which
// scheme, which error, 401 or 403, the challenge text. Configure it on the Client (Config).
func Middleware(c *Client, opts ...MiddlewareOption) func(http.Handler) http.Handler {
	m := &middleware{client: c, onError: DefaultErrorHandler}
	for _, o := range opts {
		o.applyMiddleware(m)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var req Request
			m.req.fill(&req, r)
			req.Now = m.now
			d, err := m.client.AuthenticateRequest(r.Context(), &req)
			switch {
			case err != nil:
				m.onError(w, r, nil, err)
			case !d.Allowed:
				m.onError(w, r, d, nil)
			default:
				if d.DPoPNonce != "" {
					w.Header().Set("DPoP-Nonce", d.DPoPNonce)
				}
				next.ServeHTTP(w, r.WithContext(ContextWithDecision(r.Context(), d)))
			}
		})
	}
}
