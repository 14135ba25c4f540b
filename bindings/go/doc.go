// Package oidc is the Go binding of liboidc, an OAuth 2.0 / OpenID Connect library whose
// policy lives in one Rust core behind a C ABI: the same decisions and result codes as the
// C, C# and Ruby bindings. The binding only translates (cgo); it restates no policy.
//
// Import it as
//
//	import oidc "github.com/liboidc/liboidc/bindings/go"
//
// (the module is the bindings/go folder of the liboidc repository; until the repository is
// published, point Go at a checkout with a replace directive, as README.md shows).
//
// It needs the liboidc shared library at build and run time: cgo finds it through
// pkg-config (`#cgo pkg-config: oidc`), so install liboidc with
// `cargo cinstall --release --prefix $PREFIX --libdir lib` and set
// PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig (and LD_LIBRARY_PATH=$PREFIX/lib, or ldconfig). The
// first NewClient or NewOAuthClient checks the loaded library's version against the oidc.h
// the package was compiled with.
//
// What it offers:
//
//   - [Client] validates bearer tokens (JWT access tokens: discovery, a process-wide key
//     cache, RS/PS/ES/EdDSA, RFC 9068 at+jwt) and decides about whole HTTP requests
//     (bearer, DPoP, certificate-bound tokens, scopes); [Middleware] wraps an
//     http.Handler. One Client can serve several issuers and tenant templates
//     ([Config].Issuers, [IssuerConfig]), be configured from a policy document
//     ([Config].Policy, [Config].PolicyFile; [Client.Policy] exports one), and explain its
//     decisions check by check ([Client.Explain], [Client.ExplainRequest]).
//   - [OAuthClient] talks to the authorization server through liboidc's one request object
//     (every grant, PAR, introspection, revocation, userinfo, ID-token validation,
//     registration), with one method per operation written over it.
//   - Errors are *[Error] values with the stable result code, a secret-free message, the HTTP
//     status to answer and a WWW-Authenticate value; match them with errors.Is and the Err*
//     sentinels (one per result code in oidc.h).
//   - [SetLogger] sends liboidc's log messages to a log/slog Logger; [Metrics],
//     [ExportCache] and [ImportCache] are the process-wide counters and key-cache snapshots.
package oidc
