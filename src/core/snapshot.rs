//! Warm start: the key cache (and discovered issuer metadata) exported as a JSON snapshot and
//! imported by a fresh process, which then validates with zero fetches.
//!
//! Imported data obeys the rules fetched data obeys: each JWKS document goes through the same
//! parser ([`KeySet::parse`]: key-size, curve and structure checks), each metadata document through
//! the same discovery checks (issuer match, https endpoints) when a client uses it. Expiry is
//! carried as absolute wall-clock time (monotonic clocks do not cross processes); on import the
//! time left is clamped to the TTL maximum, and an expired entry is skipped, so it is fetched
//! again as on a cold start.
//!
//! ```json
//! {"version":1,"exported_at":1767225600.0,
//!  "key_sets":[{"jwks_uri":"https://idp/jwks","trust":"123","expires_at":1767229200.0,"etag":null,"jwks":{"keys":[..]}}],
//!  "metadata":[{"issuer":"https://idp","fetched_at":1767225000.0,"trust":"123","document":{..}}],
//!  "mac":"<base64url HMAC-SHA256 of the document without mac, when a snapshot key is set>"}
//! ```
//!
//! A snapshot is a trust anchor: an unauthenticated one must be treated as configuration. Imports
//! never replace keys fetched live; imported metadata serves only clients of the same trust and
//! only when its jwks_uri is on the issuer's origin; with a snapshot key, only snapshots with a
//! valid MAC are imported.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use once_cell::sync::Lazy;
use serde_json::{Value, json};

use super::cache::{CachePolicy, GLOBAL};
use super::client::{Client, unix_now};
use super::config::{Config, DEFAULT_CACHE_MAX_ENTRIES, DEFAULT_METADATA_TTL};
use super::discovery::{Metadata, parse_metadata};
use super::error::{Error, ErrorKind, Result, err};
use super::jwks::KeySet;
use super::log::{Level, emit};
use super::metrics;
use super::runtime::ForkMutex;
use super::url::{Url, redact};

/// The snapshot format version written and accepted.
pub const VERSION: u64 = 1;
/// Most entries (key sets + metadata documents) accepted in one snapshot.
pub const MAX_SNAPSHOT_ENTRIES: usize = 1024;

struct Meta {
    document: String,
    fetched_at: f64,
    imported: bool,
    /// The trust (roots + loopback opt-in) the document was fetched under: an imported document
    /// serves only clients with the same trust, as imported key sets do.
    trust: u64,
}

/// The optional key that authenticates snapshots (HMAC-SHA256): export adds a `mac`, import
/// requires a valid one. Process-wide.
static SNAPSHOT_KEY: arc_swap::ArcSwapOption<Vec<u8>> = arc_swap::ArcSwapOption::const_empty();

/// Set (or with `None` clear) the snapshot key: 16 to 1024 bytes.
pub fn set_key(key: Option<&[u8]>) -> Result<()> {
    match key {
        Some(k) if !(16..=1024).contains(&k.len()) => err(ErrorKind::InvalidArgument, "the snapshot key must be 16 to 1024 bytes"),
        Some(k) => {
            SNAPSHOT_KEY.store(Some(Arc::new(k.to_vec())));
            Ok(())
        }
        None => {
            SNAPSHOT_KEY.store(None);
            Ok(())
        }
    }
}

/// The MAC of a snapshot: HMAC-SHA256 over the exact text of the document without its `mac`
/// member (the exported text up to its closing brace), base64url. The text is authenticated as
/// written, so an authenticated snapshot must be carried verbatim (not re-serialized).
fn mac(key: &[u8], body: &str) -> String {
    let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    let tag = aws_lc_rs::hmac::sign(&k, body.as_bytes());
    super::json::b64url_encode(tag.as_ref())
}

/// The suffix an exported MAC takes: `,"mac":"<43 base64url characters>"}`.
const MAC_PREFIX: &str = ",\"mac\":\"";

/// Split an authenticated snapshot's text into (the document without `mac`, the tag).
fn split_mac(doc: &str) -> Option<(String, &str)> {
    let t = doc.trim_end();
    let at = t.rfind(MAC_PREFIX)?;
    let tag = t[at + MAC_PREFIX.len()..].strip_suffix("\"}")?;
    (tag.len() == 43 && tag.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')).then(|| (format!("{}}}", &t[..at]), tag))
}

static METADATA: Lazy<ArcSwap<HashMap<String, Arc<Meta>>>> = Lazy::new(|| ArcSwap::from_pointee(HashMap::new()));
static METADATA_LOCK: ForkMutex = ForkMutex::new();

fn put_metadata(issuer: &str, meta: Meta) {
    let _g = METADATA_LOCK.lock();
    let mut m = HashMap::clone(&METADATA.load());
    if m.len() >= DEFAULT_CACHE_MAX_ENTRIES && !m.contains_key(issuer) {
        if let Some(oldest) = m.iter().min_by(|a, b| a.1.fetched_at.total_cmp(&b.1.fetched_at)).map(|(k, _)| k.clone()) {
            m.remove(&oldest);
        }
    }
    m.insert(issuer.to_string(), Arc::new(meta));
    METADATA.store(Arc::new(m));
}

/// Record discovered metadata so that a snapshot can carry it.
pub fn remember_metadata(m: &Metadata, trust: u64) {
    let document = Value::Object(m.raw.clone()).to_string();
    put_metadata(&m.issuer, Meta { document, fetched_at: unix_now(), imported: false, trust });
}

/// Metadata for `issuer` from an imported snapshot, if young enough and valid under the same
/// discovery rules as a fetched document.
pub fn imported_metadata(issuer: &str, allow_http_loopback: bool, trust: u64) -> Option<Metadata> {
    let map = METADATA.load();
    let m = map.get(issuer).filter(|m| m.imported && m.trust == trust)?;
    if unix_now() - m.fetched_at > DEFAULT_METADATA_TTL.as_secs_f64() {
        return None;
    }
    match parse_metadata(m.document.as_bytes(), issuer, allow_http_loopback) {
        // An imported document may not redirect the issuer's key fetching elsewhere: its
        // jwks_uri must be on the issuer's origin, else the issuer is rediscovered live.
        Ok(md) if origin(&md.jwks_uri) != origin(issuer) => {
            emit(Level::Warn, "oidc::snapshot", || {
                format!("imported metadata of {} ignored: its jwks_uri is not on the issuer's origin", redact(issuer))
            });
            None
        }
        Ok(md) => Some(md),
        Err(e) => {
            emit(Level::Warn, "oidc::snapshot", || format!("imported metadata of {} ignored: {}", redact(issuer), e.message()));
            None
        }
    }
}

/// `scheme://authority` of a URL, lowercased (the default port is not normalised: an issuer and
/// its jwks_uri spell their origin alike).
fn origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    format!("{}://{}", scheme.to_ascii_lowercase(), rest[..end].to_ascii_lowercase())
}

/// Export the fresh key sets (and metadata) of one client, or of the whole process.
pub fn export(client: Option<&Client>) -> Result<String> {
    let wall = unix_now();
    let (entries, now_of): (Vec<_>, Box<dyn Fn() -> Instant>) = match client {
        Some(c) => {
            let clock = c.config().clock.clone();
            (c.cache_entry().into_iter().collect(), Box::new(move || clock.now()))
        }
        None => (GLOBAL.entries(), Box::new(Instant::now)),
    };
    let mut key_sets = Vec::new();
    for e in entries {
        if let Some((raw, left, etag)) = e.snapshot(now_of()) {
            let jwks: Value = serde_json::from_str(&raw).map_err(|_| Error::new(ErrorKind::JwksInvalid, "cached JWKS is not JSON"))?;
            key_sets.push(json!({
                "jwks_uri": e.url(),
                // The trust the keys were fetched under: only clients with the same roots and
                // loopback opt-in read them after an import.
                "trust": e.trust().to_string(),
                "expires_at": wall + left.as_secs_f64(),
                "etag": etag,
                "jwks": jwks,
            }));
        }
    }
    let map = METADATA.load();
    let mut metadata = Vec::new();
    for (issuer, m) in map.iter() {
        if client.is_some_and(|c| &c.config().issuer != issuer) {
            continue;
        }
        if let Ok(doc) = serde_json::from_str::<Value>(&m.document) {
            metadata.push(json!({"issuer": issuer, "fetched_at": m.fetched_at, "trust": m.trust.to_string(), "document": doc}));
        }
    }
    let body = json!({"version": VERSION, "exported_at": wall, "key_sets": key_sets, "metadata": metadata}).to_string();
    Ok(match SNAPSHOT_KEY.load_full() {
        // `body` ends with its closing brace: the MAC member goes in front of it.
        Some(key) => format!("{}{MAC_PREFIX}{}\"}}", &body[..body.len() - 1], mac(&key, &body)),
        None => body,
    })
}

/// What an import did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    /// Key sets and metadata documents taken.
    pub imported: usize,
    /// Entries skipped: expired, or older than what is cached.
    pub skipped: usize,
}

/// Import a snapshot for `client`, or for the process when `client` is `None`: the one rule for
/// which timing applies. With a client, its cache policy (TTL maximum) and its clock; without
/// one, the defaults of a fresh configuration (TTL maximum 86400 s) and the monotonic clock.
pub fn import_for(doc: &str, client: Option<&Client>) -> Result<Imported> {
    match client {
        Some(c) => import(doc, c.cache_policy(), c.config().clock.now()),
        None => import(doc, &CachePolicy::from_config(&Config::new("")), Instant::now()),
    }
}

/// Import a snapshot into the process-wide cache. Timing follows `policy` (TTL maximum) and
/// `now` (the monotonic time of the clock that will read the entries). The whole snapshot is
/// checked before anything is installed: a malformed snapshot or an invalid key set fails the
/// import and changes nothing.
pub fn import(doc: &str, policy: &CachePolicy, now: Instant) -> Result<Imported> {
    // With a snapshot key set, only an authenticated snapshot is imported: the MAC covers the
    // exact text before it.
    let authenticated;
    let doc = match SNAPSHOT_KEY.load_full() {
        Some(key) => {
            let Some((body, tag)) = split_mac(doc) else {
                return err(ErrorKind::InvalidArgument, "snapshot is not authenticated (no mac) and a snapshot key is set");
            };
            if aws_lc_rs::constant_time::verify_slices_are_equal(tag.as_bytes(), mac(&key, &body).as_bytes()).is_err() {
                return err(
                    ErrorKind::InvalidArgument,
                    "snapshot mac does not verify under the snapshot key (edited, re-serialized, or another key)",
                );
            }
            authenticated = body;
            authenticated.as_str()
        }
        None => doc,
    };
    let mut v: Value = serde_json::from_str(doc).map_err(|_| Error::new(ErrorKind::InvalidArgument, "snapshot is not valid JSON"))?;
    if let Some(o) = v.as_object_mut() {
        o.remove("mac"); // without a key, a MAC is not checked
    }
    if v.get("version").and_then(Value::as_u64) != Some(VERSION) {
        return err(ErrorKind::InvalidArgument, format!("snapshot version must be {VERSION}"));
    }
    let list = |name: &str| -> Result<Vec<Value>> {
        match v.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(a)) => Ok(a.clone()),
            Some(_) => err(ErrorKind::InvalidArgument, format!("snapshot member {name} is not an array")),
        }
    };
    let key_sets = list("key_sets")?;
    let metadata = list("metadata")?;
    if key_sets.len() + metadata.len() > MAX_SNAPSHOT_ENTRIES {
        return err(ErrorKind::InvalidArgument, format!("snapshot has more than {MAX_SNAPSHOT_ENTRIES} entries"));
    }
    let wall = unix_now();
    let mut out = Imported::default();
    let mut sets = Vec::new();
    for ks in &key_sets {
        let (Some(url), Some(exp), Some(jwks), Some(trust)) = (
            ks.get("jwks_uri").and_then(Value::as_str),
            ks.get("expires_at").and_then(Value::as_f64),
            ks.get("jwks"),
            ks.get("trust").and_then(Value::as_str).and_then(|t| t.parse::<u64>().ok()),
        ) else {
            return err(ErrorKind::InvalidArgument, "snapshot key set lacks jwks_uri, trust, expires_at or jwks");
        };
        Url::parse_checked(url, true)?;
        let raw = jwks.to_string();
        let set = Arc::new(KeySet::parse(raw.as_bytes())?);
        let left = exp - wall;
        if !left.is_finite() || left <= 0.0 {
            out.skipped += 1;
            continue;
        }
        let remaining = Duration::from_secs_f64(left.min(policy.ttl_max.as_secs_f64()));
        let etag = ks.get("etag").and_then(Value::as_str).map(str::to_string);
        sets.push((url.to_string(), trust, set, raw, remaining, etag));
    }
    let mut metas = Vec::new();
    for m in &metadata {
        let (Some(issuer), Some(at), Some(Value::Object(d))) =
            (m.get("issuer").and_then(Value::as_str), m.get("fetched_at").and_then(Value::as_f64), m.get("document"))
        else {
            return err(ErrorKind::InvalidArgument, "snapshot metadata lacks issuer, fetched_at or document");
        };
        let document = Value::Object(d.clone()).to_string();
        parse_metadata(document.as_bytes(), issuer, true)?;
        // A document without the trust it was fetched under serves no client: skipped.
        let trust = m.get("trust").and_then(Value::as_str).and_then(|t| t.parse::<u64>().ok());
        let (true, Some(trust)) = (at.is_finite() && wall - at <= DEFAULT_METADATA_TTL.as_secs_f64(), trust) else {
            out.skipped += 1;
            continue;
        };
        metas.push((issuer.to_string(), Meta { document, fetched_at: at.min(wall), imported: true, trust }));
    }
    for (url, trust, set, raw, remaining, etag) in sets {
        if GLOBAL.entry(&url, trust).install(set, &raw, remaining, etag, now)? {
            out.imported += 1;
        } else {
            out.skipped += 1;
        }
    }
    for (issuer, meta) in metas {
        put_metadata(&issuer, meta);
        out.imported += 1;
    }
    for _ in 0..out.imported {
        metrics::SNAPSHOT_IMPORTED.inc();
    }
    for _ in 0..out.skipped {
        metrics::SNAPSHOT_SKIPPED.inc();
    }
    emit(Level::Info, "oidc::snapshot", || format!("snapshot imported: {} entries, {} skipped", out.imported, out.skipped));
    Ok(out)
}
