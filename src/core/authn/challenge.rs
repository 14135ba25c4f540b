//! `WWW-Authenticate` challenges (RFC 6750 §3, RFC 9449 §7.1) for a denied request.

use super::header::Scheme;
use crate::core::config::{Algorithm, DpopConfig, DpopMode};
use crate::core::error::{Error, quote_safe};

/// The order of the DPoP challenge's `algs` (RFC 9449 §7.1): elliptic-curve algorithms first
/// (small, fast proofs), then RSA. The allow-list is a set, so this fixes one order for every
/// language: the default list reads `algs="ES256 ES384 ES512 EdDSA RS256 PS256"`.
pub const ALGS_ORDER: [Algorithm; 10] = [
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::ES512,
    Algorithm::EdDSA,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

/// The schemes a resource offers, in challenge order.
pub fn offered(dpop: &DpopConfig) -> impl Iterator<Item = Scheme> {
    let bearer = dpop.mode != DpopMode::Required;
    let dpop_on = dpop.mode != DpopMode::Disabled;
    [(bearer, Scheme::Bearer), (dpop_on, Scheme::DPoP)].into_iter().filter_map(|(on, s)| on.then_some(s))
}

/// Whether `scheme` is offered.
pub fn is_offered(dpop: &DpopConfig, scheme: Scheme) -> bool {
    offered(dpop).any(|s| s == scheme)
}

/// The challenges of a denial: one per offered scheme, the error (if the kind has one) on the
/// scheme the request used (or the first offered one); `scope` names the missing scopes of an
/// `insufficient_scope` denial; the DPoP challenge always lists `algs`. Server-side failures
/// (5xx) get no challenge.
pub fn challenges(realm: Option<&str>, dpop: &DpopConfig, used: Option<Scheme>, e: &Error, missing: &[String]) -> Vec<String> {
    let kind = e.kind();
    if kind.http_status() >= 500 {
        return Vec::new();
    }
    let target = used.filter(|s| is_offered(dpop, *s)).or_else(|| offered(dpop).next());
    let mut out = Vec::with_capacity(2);
    for scheme in offered(dpop) {
        let mut parts: Vec<String> = Vec::with_capacity(5);
        if let Some(r) = realm {
            parts.push(format!("realm=\"{}\"", quote_safe(r)));
        }
        if Some(scheme) == target {
            if let Some(code) = kind.resource_error() {
                parts.push(format!("error=\"{code}\""));
                parts.push(format!("error_description=\"{}\"", kind.public_description()));
                if !missing.is_empty() {
                    parts.push(format!("scope=\"{}\"", missing.join(" ")));
                }
            }
        }
        if scheme == Scheme::DPoP {
            let algs: Vec<&str> = ALGS_ORDER.iter().filter(|a| dpop.algorithms.contains(**a)).map(|a| a.name()).collect();
            parts.push(format!("algs=\"{}\"", algs.join(" ")));
        }
        out.push(if parts.is_empty() { scheme.name().to_string() } else { format!("{} {}", scheme.name(), parts.join(", ")) });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::error::ErrorKind;

    #[test]
    fn algs_order_and_shapes() {
        let mut d = DpopConfig::default();
        let e = Error::new(ErrorKind::TokenMissing, "x");
        assert_eq!(
            challenges(Some("api"), &d, None, &e, &[]),
            vec!["Bearer realm=\"api\"".to_string(), "DPoP realm=\"api\", algs=\"ES256 ES384 ES512 EdDSA RS256 PS256\"".to_string()]
        );
        d.algorithms = [Algorithm::PS512, Algorithm::EdDSA, Algorithm::ES256].into_iter().collect();
        d.mode = DpopMode::Required;
        assert_eq!(challenges(None, &d, None, &e, &[]), vec!["DPoP algs=\"ES256 EdDSA PS512\"".to_string()]);
        assert_eq!(ALGS_ORDER.len(), Algorithm::ALL.len());
        assert!(Algorithm::ALL.iter().all(|a| ALGS_ORDER.contains(a)));
    }
}
