//! The portable policy document (issue 12): one versioned JSON document that spells the same
//! configuration as the builder calls. [`parse`] fills a [`Config`] (strictly: an unknown member,
//! a wrong type or a bad value is `InvalidConfig` naming its JSON path, e.g.
//! `$.issuers[1].audiences[0]`); [`export`] writes a configuration back as a document, so that
//! `parse(export(c))` gives `c` again.
//!
//! Not in a document, on purpose: the DPoP nonce secret and a host replay store (secrets and
//! host objects travel by their own calls), the clock and the prefetch mode (process matters).
//!
//! ```json
//! {"version": 1,
//!  "issuer": "https://idp.example", "jwks_uri": "...", "jwks": {"keys": []},
//!  "audiences": ["api"], "any_audience": false, "algorithms": ["RS256"], "leeway_secs": 60,
//!  "typ": "at+jwt", "required_claims": ["sub"], "max_token_bytes": 16384, "realm": "api",
//!  "issuers": [{"issuer": "https://login.example/{tenant}/v2.0", "tenants": ["t1"] | "any",
//!               "tenant_claim": "tid", "tenant_bounds": {"max_tenants": 256, "new_per_window": 10,
//!               "window_secs": 60, "max_in_flight": 4}, "audiences": [], "any_audience": false,
//!               "algorithms": [...], "typ": "...", "required_claims": [], "jwks_uri" | "jwks"}],
//!  "resource": {"required_scopes": ["read"], "claim_values": {"tid": ["t1"]}, "require_mtls": false,
//!               "dpop": {"mode": "allowed" | "required" | "disabled", "algorithms": ["ES256"],
//!                        "proof_window_secs": 60, "nonce_lifetime_secs": 300}},
//!  "http": {"connect_timeout_ms": 5000, "total_timeout_ms": 10000, "max_response_bytes": 524288,
//!           "ca_file": "/path", "allow_http_loopback": false},
//!  "cache": {"ttl_min_secs": 60, "ttl_max_secs": 86400, "ttl_default_secs": 3600,
//!            "refresh_cooldown_secs": 30, "retry_after_failure_secs": 5,
//!            "stale_if_error_secs": 21600, "token_cache_size": 4096}}
//! ```

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::config::{AlgSet, Config, DpopMode, IssuerConfig, KeySource, TenantBounds, Tenants};
use super::error::{Error, ErrorKind, Result};

/// The document version this library reads and writes.
pub const POLICY_VERSION: u64 = 1;
/// Largest document accepted.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

fn bad<T>(path: &str, what: impl std::fmt::Display) -> Result<T> {
    Err(Error::new(ErrorKind::InvalidConfig, format!("policy {path}: {what}")))
}

/// A JSON object whose members are checked one by one; `finish` refuses any left unread.
struct Obj<'a> {
    path: String,
    map: &'a Map<String, Value>,
    seen: Vec<&'a str>,
}

impl<'a> Obj<'a> {
    fn new(v: &'a Value, path: &str) -> Result<Obj<'a>> {
        match v {
            Value::Object(map) => Ok(Obj { path: path.to_string(), map, seen: Vec::new() }),
            _ => bad(path, "must be an object"),
        }
    }
    fn at(&self, k: &str) -> String {
        format!("{}.{k}", self.path)
    }
    fn get(&mut self, k: &'static str) -> Option<&'a Value> {
        let v = self.map.get(k);
        if v.is_some() {
            self.seen.push(k);
        }
        v
    }
    fn str(&mut self, k: &'static str) -> Result<Option<String>> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => bad(&self.at(k), "must be a string"),
        }
    }
    fn bool(&mut self, k: &'static str) -> Result<Option<bool>> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => bad(&self.at(k), "must be true or false"),
        }
    }
    fn u64(&mut self, k: &'static str) -> Result<Option<u64>> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => match v.as_u64() {
                Some(n) => Ok(Some(n)),
                None => bad(&self.at(k), "must be a non-negative integer"),
            },
        }
    }
    fn u32(&mut self, k: &'static str) -> Result<Option<u32>> {
        match self.u64(k)? {
            None => Ok(None),
            Some(n) => u32::try_from(n).map(Some).or_else(|_| bad(&self.at(k), "is too large")),
        }
    }
    fn strs(&mut self, k: &'static str) -> Result<Option<Vec<String>>> {
        let p = self.at(k);
        match self.get(k) {
            None => Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) => Ok(s.clone()),
                    _ => bad(&format!("{p}[{i}]"), "must be a string"),
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
            Some(_) => bad(&p, "must be an array of strings"),
        }
    }
    fn algs(&mut self, k: &'static str) -> Result<Option<AlgSet>> {
        let p = self.at(k);
        match self.strs(k)? {
            None => Ok(None),
            Some(names) => AlgSet::from_names(names.iter().map(String::as_str), "is empty").map(Some).or_else(|e| bad(&p, e.message())),
        }
    }
    fn finish(self) -> Result<()> {
        for k in self.map.keys() {
            if !self.seen.contains(&k.as_str()) {
                return bad(&format!("{}.{}", self.path, super::json::printable(k)), "unknown member");
            }
        }
        Ok(())
    }
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Parse a document into a configuration (then checked as a whole by `Client::new`, like the
/// builder's). `base` is the starting configuration (a builder's current state).
pub fn parse_into(doc: &str, cfg: &mut Config) -> Result<()> {
    if doc.len() > MAX_DOCUMENT_BYTES {
        return bad("$", "the document is larger than 1 MiB");
    }
    let v: Value = serde_json::from_str(doc).or_else(|e| bad("$", format!("not JSON ({e})")))?;
    let mut o = Obj::new(&v, "$")?;
    match o.u64("version")? {
        Some(POLICY_VERSION) => {}
        Some(n) => return bad("$.version", format!("version {n} is not supported (this library reads version 1)")),
        None => return bad("$.version", "is required (1)"),
    }
    if let Some(s) = o.str("issuer")? {
        cfg.issuer = s;
    }
    key_source(&mut o, &mut cfg.key_source)?;
    if let Some(a) = o.strs("audiences")? {
        cfg.audiences = a;
    }
    if let Some(b) = o.bool("any_audience")? {
        cfg.allow_any_audience = b;
    }
    if let Some(a) = o.algs("algorithms")? {
        cfg.algorithms = a;
    }
    if let Some(n) = o.u64("leeway_secs")? {
        cfg.leeway = secs(n);
    }
    if let Some(t) = o.str("typ")? {
        cfg.expected_typ = Some(t);
    }
    if let Some(r) = o.strs("required_claims")? {
        cfg.required_claims = r;
    }
    if let Some(n) = o.u64("max_token_bytes")? {
        cfg.max_token_bytes = usize::try_from(n).unwrap_or(usize::MAX);
    }
    if let Some(r) = o.str("realm")? {
        cfg.realm = Some(r);
    }
    if let Some(list) = o.get("issuers") {
        let Value::Array(list) = list else { return bad("$.issuers", "must be an array") };
        if list.len() > super::config::MAX_ISSUERS {
            return bad("$.issuers", "too many issuers (at most 64)");
        }
        cfg.issuers = list.iter().enumerate().map(|(i, v)| issuer(v, &format!("$.issuers[{i}]"))).collect::<Result<_>>()?;
    }
    if let Some(r) = o.get("resource") {
        resource(r, cfg)?;
    }
    if let Some(h) = o.get("http") {
        let mut h = Obj::new(h, "$.http")?;
        if let Some(n) = h.u64("connect_timeout_ms")? {
            cfg.connect_timeout = Duration::from_millis(n);
        }
        if let Some(n) = h.u64("total_timeout_ms")? {
            cfg.total_timeout = Duration::from_millis(n);
        }
        if let Some(n) = h.u64("max_response_bytes")? {
            cfg.max_response_bytes = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(p) = h.str("ca_file")? {
            cfg.ca_file = Some(p.into());
        }
        if let Some(b) = h.bool("allow_http_loopback")? {
            cfg.allow_http_loopback = b;
        }
        h.finish()?;
    }
    if let Some(r) = o.get("revocation") {
        let mut r = Obj::new(r, "$.revocation")?;
        let policy = match r.str("policy")? {
            Some(p) => match super::revocation::RevocationPolicy::from_name(&p) {
                Some(p) => p,
                None => return bad("$.revocation.policy", "must be \"fail_closed\" or \"fail_open\""),
            },
            None => return bad("$.revocation.policy", "is required (\"fail_closed\" or \"fail_open\")"),
        };
        let mut rc = super::revocation::RevocationConfig::new(policy);
        rc.url = r.str("url")?;
        if let Some(n) = r.u64("grace_secs")? {
            rc.grace = secs(n);
        }
        if let Some(n) = r.u64("min_interval_secs")? {
            rc.min_interval = secs(n);
        }
        if let Some(n) = r.u64("max_interval_secs")? {
            rc.max_interval = secs(n);
        }
        r.finish()?;
        cfg.revocation = Some(rc);
    }
    if let Some(d) = o.get("decryption") {
        // The keys are secrets: never in a document (add them with their own calls).
        let mut d = Obj::new(d, "$.decryption")?;
        if let Some(a) = d.strs("algorithms")? {
            cfg.decryption_algorithms =
                super::jose::jwe::JweAlgs::parse(&a.join(" ")).or_else(|e| bad("$.decryption.algorithms", e.message()))?;
        }
        if let Some(b) = d.bool("accept_encrypted")? {
            cfg.accept_encrypted = b;
        }
        d.finish()?;
    }
    if let Some(c) = o.get("cache") {
        let mut c = Obj::new(c, "$.cache")?;
        let (min, max, def) = (c.u64("ttl_min_secs")?, c.u64("ttl_max_secs")?, c.u64("ttl_default_secs")?);
        cfg.jwks_ttl_min = min.map(secs).unwrap_or(cfg.jwks_ttl_min);
        cfg.jwks_ttl_max = max.map(secs).unwrap_or(cfg.jwks_ttl_max);
        cfg.jwks_ttl_default = def.map(secs).unwrap_or(cfg.jwks_ttl_default);
        if let Some(n) = c.u64("refresh_cooldown_secs")? {
            cfg.refresh_cooldown = secs(n);
        }
        if let Some(n) = c.u64("retry_after_failure_secs")? {
            cfg.retry_after_failure = secs(n);
        }
        if let Some(n) = c.u64("stale_if_error_secs")? {
            cfg.stale_if_error = secs(n);
        }
        if let Some(n) = c.u64("token_cache_size")? {
            cfg.token_cache_size = usize::try_from(n).unwrap_or(usize::MAX);
        }
        c.finish()?;
    }
    o.finish()
}

fn key_source(o: &mut Obj, ks: &mut KeySource) -> Result<()> {
    let uri = o.str("jwks_uri")?;
    let doc = o.get("jwks");
    match (uri, doc) {
        (Some(_), Some(_)) => bad(&o.path, "jwks_uri and jwks exclude each other"),
        (Some(u), None) => {
            *ks = KeySource::JwksUri(u);
            Ok(())
        }
        (None, Some(d @ Value::Object(_))) => {
            *ks = KeySource::Static(d.to_string());
            Ok(())
        }
        (None, Some(_)) => bad(&o.at("jwks"), "must be a JWKS object"),
        (None, None) => Ok(()),
    }
}

fn issuer(v: &Value, path: &str) -> Result<IssuerConfig> {
    let mut o = Obj::new(v, path)?;
    let Some(name) = o.str("issuer")? else { return bad(&o.at("issuer"), "is required") };
    let mut ic = IssuerConfig::new(name);
    key_source(&mut o, &mut ic.key_source)?;
    ic.audiences = o.strs("audiences")?.unwrap_or_default();
    ic.allow_any_audience = o.bool("any_audience")?.unwrap_or(false);
    ic.algorithms = o.algs("algorithms")?;
    ic.expected_typ = o.str("typ")?;
    ic.required_claims = o.strs("required_claims")?.unwrap_or_default();
    let tp = o.at("tenants");
    ic.tenants = match o.get("tenants") {
        None => None,
        Some(Value::String(s)) if s == "any" => Some(Tenants::Any),
        Some(Value::Array(_)) => {
            let list = o.strs("tenants")?.unwrap_or_default();
            Some(Tenants::AllowList(list))
        }
        Some(_) => return bad(&tp, "must be an array of tenants or \"any\""),
    };
    if let Some(c) = o.str("tenant_claim")? {
        ic.tenant_claim = c;
    }
    if let Some(b) = o.get("tenant_bounds") {
        let mut b = Obj::new(b, &o.at("tenant_bounds"))?;
        let d = TenantBounds::default();
        ic.tenant_bounds = TenantBounds {
            max_tenants: b.u32("max_tenants")?.map(|n| n as usize).unwrap_or(d.max_tenants),
            new_per_window: b.u32("new_per_window")?.unwrap_or(d.new_per_window),
            window: b.u64("window_secs")?.map(secs).unwrap_or(d.window),
            max_in_flight: b.u32("max_in_flight")?.unwrap_or(d.max_in_flight),
        };
        b.finish()?;
    }
    o.finish()?;
    Ok(ic)
}

fn resource(v: &Value, cfg: &mut Config) -> Result<()> {
    let mut o = Obj::new(v, "$.resource")?;
    if let Some(list) = o.strs("required_scopes")? {
        cfg.resource.required_scopes.clear();
        for (i, s) in list.iter().enumerate() {
            cfg.add_required_scope(s).or_else(|e| bad(&format!("$.resource.required_scopes[{i}]"), e.message()))?;
        }
    }
    if let Some(cv) = o.get("claim_values") {
        let Value::Object(m) = cv else { return bad("$.resource.claim_values", "must be an object of claim -> [values]") };
        cfg.resource.claim_values.clear();
        for (name, vals) in m {
            let p = format!("$.resource.claim_values.{}", super::json::printable(name));
            let Value::Array(vals) = vals else { return bad(&p, "must be an array of strings") };
            for (i, val) in vals.iter().enumerate() {
                let Value::String(val) = val else { return bad(&format!("{p}[{i}]"), "must be a string") };
                cfg.add_claim_value(name, val).or_else(|e| bad(&format!("{p}[{i}]"), e.message()))?;
            }
        }
    }
    if let Some(b) = o.bool("require_mtls")? {
        cfg.resource.require_mtls = b;
    }
    if let Some(d) = o.get("dpop") {
        let mut d = Obj::new(d, "$.resource.dpop")?;
        if let Some(m) = d.str("mode")? {
            cfg.resource.dpop.mode = match m.as_str() {
                "allowed" => DpopMode::Allowed,
                "required" => DpopMode::Required,
                "disabled" => DpopMode::Disabled,
                _ => return bad("$.resource.dpop.mode", "must be \"allowed\", \"required\" or \"disabled\""),
            };
        }
        if let Some(a) = d.algs("algorithms")? {
            cfg.resource.dpop.algorithms = a;
        }
        if let Some(n) = d.u64("proof_window_secs")? {
            cfg.resource.dpop.proof_window = secs(n);
        }
        if let Some(n) = d.u64("nonce_lifetime_secs")? {
            cfg.resource.dpop.nonce_lifetime = secs(n);
        }
        d.finish()?;
    }
    o.finish()
}

fn algs(a: AlgSet) -> Value {
    Value::from(a.iter().map(|x| x.name()).collect::<Vec<_>>())
}

fn key_source_out(m: &mut Map<String, Value>, ks: &KeySource) {
    match ks {
        KeySource::Discovery => {}
        KeySource::JwksUri(u) => {
            m.insert("jwks_uri".into(), json!(u));
        }
        KeySource::Static(d) => {
            m.insert("jwks".into(), serde_json::from_str(d).unwrap_or(Value::Null));
        }
    }
}

/// The configuration as a document (every member written, defaults included). Secrets and host
/// objects are not part of it (see the module comment).
pub fn export(c: &Config) -> String {
    let mut top = Map::new();
    top.insert("version".into(), json!(POLICY_VERSION));
    top.insert("issuer".into(), json!(c.issuer));
    key_source_out(&mut top, &c.key_source);
    top.insert("audiences".into(), json!(c.audiences));
    top.insert("any_audience".into(), json!(c.allow_any_audience));
    top.insert("algorithms".into(), algs(c.algorithms));
    top.insert("leeway_secs".into(), json!(c.leeway.as_secs()));
    if let Some(t) = &c.expected_typ {
        top.insert("typ".into(), json!(t));
    }
    top.insert("required_claims".into(), json!(c.required_claims));
    top.insert("max_token_bytes".into(), json!(c.max_token_bytes));
    if let Some(r) = &c.realm {
        top.insert("realm".into(), json!(r));
    }
    let issuers: Vec<Value> = c
        .issuers
        .iter()
        .map(|i| {
            let mut m = Map::new();
            m.insert("issuer".into(), json!(i.issuer));
            key_source_out(&mut m, &i.key_source);
            m.insert("audiences".into(), json!(i.audiences));
            m.insert("any_audience".into(), json!(i.allow_any_audience));
            if let Some(a) = i.algorithms {
                m.insert("algorithms".into(), algs(a));
            }
            if let Some(t) = &i.expected_typ {
                m.insert("typ".into(), json!(t));
            }
            m.insert("required_claims".into(), json!(i.required_claims));
            match &i.tenants {
                None => {}
                Some(Tenants::Any) => {
                    m.insert("tenants".into(), json!("any"));
                }
                Some(Tenants::AllowList(l)) => {
                    m.insert("tenants".into(), json!(l));
                }
            }
            if i.is_template() {
                let b = i.tenant_bounds;
                m.insert("tenant_claim".into(), json!(i.tenant_claim));
                m.insert(
                    "tenant_bounds".into(),
                    json!({"max_tenants": b.max_tenants, "new_per_window": b.new_per_window,
                           "window_secs": b.window.as_secs(), "max_in_flight": b.max_in_flight}),
                );
            }
            Value::Object(m)
        })
        .collect();
    top.insert("issuers".into(), Value::from(issuers));
    let r = &c.resource;
    let mode = match r.dpop.mode {
        DpopMode::Allowed => "allowed",
        DpopMode::Required => "required",
        DpopMode::Disabled => "disabled",
    };
    let cv: Map<String, Value> = r.claim_values.iter().map(|(n, v)| (n.clone(), json!(v))).collect();
    top.insert(
        "resource".into(),
        json!({"required_scopes": r.required_scopes, "claim_values": cv, "require_mtls": r.require_mtls,
               "dpop": {"mode": mode, "algorithms": algs(r.dpop.algorithms),
                        "proof_window_secs": r.dpop.proof_window.as_secs(),
                        "nonce_lifetime_secs": r.dpop.nonce_lifetime.as_secs()}}),
    );
    let mut http = json!({"connect_timeout_ms": c.connect_timeout.as_millis() as u64,
                          "total_timeout_ms": c.total_timeout.as_millis() as u64,
                          "max_response_bytes": c.max_response_bytes,
                          "allow_http_loopback": c.allow_http_loopback});
    if let Some(p) = &c.ca_file {
        http["ca_file"] = json!(p.to_string_lossy());
    }
    top.insert("http".into(), http);
    if let Some(r) = &c.revocation {
        let mut m = json!({"policy": r.policy.name(), "grace_secs": r.grace.as_secs(),
                           "min_interval_secs": r.min_interval.as_secs(), "max_interval_secs": r.max_interval.as_secs()});
        if let Some(u) = &r.url {
            m["url"] = json!(u);
        }
        top.insert("revocation".into(), m);
    }
    top.insert("decryption".into(), json!({"algorithms": c.decryption_algorithms.names(), "accept_encrypted": c.accept_encrypted}));
    top.insert(
        "cache".into(),
        json!({"ttl_min_secs": c.jwks_ttl_min.as_secs(), "ttl_max_secs": c.jwks_ttl_max.as_secs(),
               "ttl_default_secs": c.jwks_ttl_default.as_secs(), "refresh_cooldown_secs": c.refresh_cooldown.as_secs(),
               "retry_after_failure_secs": c.retry_after_failure.as_secs(),
               "stale_if_error_secs": c.stale_if_error.as_secs(), "token_cache_size": c.token_cache_size}),
    );
    serde_json::to_string_pretty(&Value::Object(top)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(doc: &str) -> Result<Config> {
        let mut c = Config::new("");
        parse_into(doc, &mut c).map(|()| c)
    }

    fn path_of(doc: &str) -> String {
        let e = parse(doc).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        e.message().to_string()
    }

    #[test]
    fn strict_errors_name_the_path() {
        assert!(path_of(r#"{"audiences":["a"]}"#).contains("$.version"));
        assert!(path_of(r#"{"version":2}"#).contains("$.version"));
        assert!(path_of(r#"{"version":1,"audience":["a"]}"#).contains("$.audience: unknown member"));
        assert!(
            path_of(r#"{"version":1,"issuers":[{"issuer":"https://a"},{"issuer":"https://b","audiences":["x",5]}]}"#)
                .contains("$.issuers[1].audiences[1]: must be a string")
        );
        assert!(path_of(r#"{"version":1,"leeway_secs":"60"}"#).contains("$.leeway_secs"));
        assert!(path_of(r#"{"version":1,"algorithms":["HS256"]}"#).contains("$.algorithms"));
        assert!(path_of(r#"{"version":1,"resource":{"dpop":{"mode":"maybe"}}}"#).contains("$.resource.dpop.mode"));
        assert!(path_of(r#"{"version":1,"http":{"ca":"x"}}"#).contains("$.http.ca: unknown member"));
        assert!(
            path_of(r#"{"version":1,"issuers":[{"issuer":"https://a","tenant_bounds":{"max":1}}]}"#)
                .contains("$.issuers[0].tenant_bounds.max")
        );
        assert!(path_of(r#"{"version":1,"resource":{"claim_values":{"tid":[1]}}}"#).contains("$.resource.claim_values.tid[0]"));
        assert!(path_of("[1]").contains("$: must be an object"));
        assert!(path_of("{").contains("not JSON"));
    }

    #[test]
    fn revocation_and_decryption_round_trip() {
        let doc = r#"{"version":1,"issuer":"https://a.example","audiences":["api"],
            "revocation":{"policy":"fail_open","url":"https://a.example/rl","grace_secs":60,"min_interval_secs":40,"max_interval_secs":4000},
            "decryption":{"algorithms":["RSA-OAEP-256","ECDH-ES","A256GCM"],"accept_encrypted":false}}"#;
        let c = parse(doc).unwrap();
        let r = c.revocation.as_ref().unwrap();
        assert_eq!(r.policy, crate::core::revocation::RevocationPolicy::FailOpen);
        assert_eq!((r.grace.as_secs(), r.min_interval.as_secs(), r.max_interval.as_secs()), (60, 40, 4000));
        assert_eq!(r.url.as_deref(), Some("https://a.example/rl"));
        assert_eq!(c.decryption_algorithms.names(), vec!["RSA-OAEP-256", "ECDH-ES", "A256GCM"]);
        let out = export(&c);
        assert_eq!(export(&parse(&out).unwrap()), out);
        // Defaults: no revocation member; the default JWE list; RSA1_5 only when named.
        let d = export(&parse(r#"{"version":1,"issuer":"https://a.example","audiences":["api"]}"#).unwrap());
        assert!(!d.contains("revocation") && !d.contains("RSA1_5"), "{d}");
        for (bad_doc, path) in [
            (r#"{"version":1,"revocation":{"policy":"maybe"}}"#, "$.revocation.policy"),
            (r#"{"version":1,"revocation":{}}"#, "$.revocation.policy"),
            (r#"{"version":1,"revocation":{"policy":"fail_closed","grace":1}}"#, "$.revocation.grace"),
            (r#"{"version":1,"decryption":{"algorithms":["ROT13"]}}"#, "$.decryption.algorithms"),
            (r#"{"version":1,"decryption":{"keys":["..."]}}"#, "$.decryption.keys"),
        ] {
            let m = path_of(bad_doc);
            assert!(m.starts_with(&format!("policy {path}")), "{bad_doc}: {m}");
        }
    }

    #[test]
    fn export_round_trips() {
        let doc = r#"{"version":1,"issuer":"https://a.example","audiences":["api"],"algorithms":["RS256","ES256"],
            "leeway_secs":30,"typ":"at+jwt","required_claims":["sub"],"max_token_bytes":8192,"realm":"r",
            "issuers":[{"issuer":"https://login.example/{tenant}/v2.0","tenants":["t1","t2"],"tenant_claim":"tenant",
                        "tenant_bounds":{"max_tenants":8,"new_per_window":2,"window_secs":10,"max_in_flight":1}},
                       {"issuer":"https://b.example","jwks_uri":"https://b.example/keys","audiences":["b"],"typ":"jwt"},
                       {"issuer":"https://c.example","tenants":"any"}],
            "resource":{"required_scopes":["read"],"claim_values":{"tid":["t1"]},"require_mtls":true,
                        "dpop":{"mode":"required","algorithms":["ES256"],"proof_window_secs":30,"nonce_lifetime_secs":60}},
            "http":{"connect_timeout_ms":1000,"total_timeout_ms":2000,"max_response_bytes":65536,"ca_file":"/tmp/ca.pem",
                    "allow_http_loopback":true},
            "cache":{"ttl_min_secs":10,"ttl_max_secs":100,"ttl_default_secs":50,"refresh_cooldown_secs":3,
                     "retry_after_failure_secs":2,"stale_if_error_secs":7,"token_cache_size":0}}"#;
        let c = parse(doc).unwrap();
        assert_eq!(c.issuers.len(), 3);
        assert_eq!(c.issuers[2].tenants, Some(Tenants::Any));
        let out = export(&c);
        let c2 = parse(&out).unwrap();
        assert_eq!(export(&c2), out, "export(parse(export(c))) == export(c)");
        assert_eq!(format!("{:?}", c2.issuers), format!("{:?}", c.issuers));
        assert_eq!(format!("{:?}", c2.resource), format!("{:?}", c.resource));
        // The builder spelling gives the same document.
        let mut b = Config::new("https://a.example");
        b.audiences = vec!["api".into()];
        b.set_algorithms(["RS256", "ES256"]).unwrap();
        b.leeway = secs(30);
        b.expected_typ = Some("at+jwt".into());
        b.required_claims = vec!["sub".into()];
        b.max_token_bytes = 8192;
        b.realm = Some("r".into());
        b.issuers = c.issuers.clone();
        b.add_required_scope("read").unwrap();
        b.add_claim_value("tid", "t1").unwrap();
        b.resource.require_mtls = true;
        b.resource.dpop.mode = DpopMode::Required;
        b.set_dpop_algorithms(["ES256"]).unwrap();
        b.resource.dpop.proof_window = secs(30);
        b.resource.dpop.nonce_lifetime = secs(60);
        b.connect_timeout = Duration::from_millis(1000);
        b.total_timeout = Duration::from_millis(2000);
        b.max_response_bytes = 65536;
        b.ca_file = Some("/tmp/ca.pem".into());
        b.allow_http_loopback = true;
        b.set_cache_policy(secs(10), secs(100), secs(3), secs(7));
        b.jwks_ttl_default = secs(50);
        b.retry_after_failure = secs(2);
        b.token_cache_size = 0;
        assert_eq!(export(&b), out);
    }
}
