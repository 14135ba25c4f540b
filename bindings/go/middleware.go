package oidc

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

type claimsKey struct{}

// NewContext returns a copy of ctx carrying claims (what Middleware does for each request).
func NewContext(ctx context.Context, claims *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, claims)
}

// ClaimsFromContext returns the claims Middleware validated for this request.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok && c != nil
}

// MiddlewareOption configures Middleware.
type MiddlewareOption func(*middleware)

// RequireScopes makes Middleware answer 403 with error="insufficient_scope" (RFC 6750 §3.1)
// unless the token grants every one of scopes.
func RequireScopes(scopes ...string) MiddlewareOption {
	return func(m *middleware) { m.scopes = append(m.scopes, scopes...) }
}

// WithErrorHandler replaces the default failure answer. err is an *Error, ErrClosed, a context
// error, or ErrNoToken / ErrInsufficientScope-matching *Error values from Middleware itself;
// status and wwwAuthenticate are what Middleware would have sent.
func WithErrorHandler(h func(w http.ResponseWriter, r *http.Request, err error, status int, wwwAuthenticate string)) MiddlewareOption {
	return func(m *middleware) { m.onError = h }
}

// ErrNoToken is reported to an error handler when a request has no bearer token.
var ErrNoToken = errors.New("oidc: no bearer token in the request")

type middleware struct {
	client  *Client
	scopes  []string
	onError func(w http.ResponseWriter, r *http.Request, err error, status int, wwwAuthenticate string)
}

// Middleware protects an http.Handler with bearer-token validation (RFC 6750).
//
// For each request it reads "Authorization: Bearer <token>", validates the token with c
// (bounded by the request's context) and calls next with the claims in the request context
// (ClaimsFromContext). On failure it answers, without calling next:
//
//   - no bearer token: 401 with `WWW-Authenticate: Bearer[ realm="..."]` (no error code, per
//     RFC 6750 §3.1);
//   - an invalid token: 401 with liboidc's WWW-Authenticate value (error="invalid_token" and a
//     description);
//   - keys that cannot be obtained: 503 (and 500 for other failures), as the error's
//     HTTPStatus says;
//   - a missing required scope (RequireScopes): 403 with error="insufficient_scope".
func Middleware(c *Client, opts ...MiddlewareOption) func(http.Handler) http.Handler {
	m := &middleware{client: c, onError: defaultErrorHandler}
	for _, o := range opts {
		o(m)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, ok := bearerToken(r)
			if !ok {
				m.onError(w, r, ErrNoToken, http.StatusUnauthorized, m.challenge(""))
				return
			}
			claims, err := m.client.Validate(r.Context(), token)
			if err != nil {
				status, www := http.StatusInternalServerError, m.challenge("")
				var oe *Error
				switch {
				case errors.As(err, &oe):
					if oe.HTTPStatus != 0 {
						status = oe.HTTPStatus
					}
					if oe.WWWAuthenticate != "" {
						www = oe.WWWAuthenticate
					}
				case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
					status = http.StatusServiceUnavailable
				}
				m.onError(w, r, err, status, www)
				return
			}
			if missing := m.missingScopes(claims); len(missing) > 0 {
				err := &Error{Code: CodeInsufficientScope, Name: CodeInsufficientScope.String(), HTTPStatus: http.StatusForbidden,
					Message: "the access token lacks a required scope", BearerError: "insufficient_scope"}
				err.WWWAuthenticate = m.challenge(`error="insufficient_scope", error_description="` + err.Message +
					`", scope="` + strings.Join(m.scopes, " ") + `"`)
				m.onError(w, r, err, http.StatusForbidden, err.WWWAuthenticate)
				return
			}
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), claims)))
		})
	}
}

func (m *middleware) missingScopes(claims *Claims) []string {
	if len(m.scopes) == 0 {
		return nil
	}
	granted := map[string]bool{}
	for _, s := range claims.Scopes() {
		granted[s] = true
	}
	var missing []string
	for _, s := range m.scopes {
		if !granted[s] {
			missing = append(missing, s)
		}
	}
	return missing
}

// challenge builds `Bearer realm="...", params` (RFC 6750 §3).
func (m *middleware) challenge(params string) string {
	var b strings.Builder
	b.WriteString("Bearer")
	sep := " "
	if realm := m.client.Realm(); realm != "" {
		b.WriteString(` realm="` + quoteEscape(realm) + `"`)
		sep = ", "
	}
	if params != "" {
		b.WriteString(sep + params)
	}
	return b.String()
}

func quoteEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "Bearer ") {
		return "", false
	}
	return strings.TrimSpace(h[7:]), true
}

func defaultErrorHandler(w http.ResponseWriter, _ *http.Request, _ error, status int, www string) {
	if www != "" && (status == http.StatusUnauthorized || status == http.StatusForbidden) {
		w.Header().Set("WWW-Authenticate", www)
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, http.StatusText(status), status)
}
