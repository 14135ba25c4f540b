//! Loopback HTTP/1.1 fixture server (plain or TLS), one thread per connection.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, MutexGuard};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use crate::ca::TestCa;
use crate::keys::{TestKey, jwks_value};
use crate::util::parse_query;

/// How long an idle keep-alive connection (or a stalled request) is kept.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Socket write timeout.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest accepted request head (request line + headers); larger → 431.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Largest accepted request body; larger → 413.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Connections beyond this many concurrently open ones are closed at once.
pub const MAX_OPEN_CONNECTIONS: usize = 512;
/// How many requests the in-memory log keeps (oldest dropped first).
pub const LOG_CAPACITY: usize = 4096;
/// Upper bound on how long `Drop` waits for server threads to finish.
pub const DROP_WAIT: Duration = Duration::from_secs(2);

/// A dynamic handler: computes the response for each request.
pub type HandlerFn = Arc<dyn Fn(&RecordedRequest) -> Route + Send + Sync>;

/// A response specification plus misbehaviours.
///
/// Build one with the constructors ([`Route::json`], [`Route::status`], …)
/// and the `with_*` modifiers, or fill the public fields directly
/// (`Route { delay: …, ..Route::json(&v) }`).
///
/// Order of evaluation when a request hits the route: `hang` → `delay` →
/// `reset` → `raw` → ETag/`If-None-Match` (304) → normal response (possibly
/// `truncate_to`). `redirect_to` only adds a `Location` header (use
/// [`Route::redirect`] to also get status 302).
#[derive(Clone, Debug)]
pub struct Route {
    /// HTTP status code (default 200).
    pub status: u16,
    /// `Content-Type` header; `None` sends no Content-Type at all.
    /// Default `Some("application/json")`.
    pub content_type: Option<String>,
    /// `Cache-Control` header value, if any.
    pub cache_control: Option<String>,
    /// `ETag` header value, sent verbatim (include the quotes, e.g. `"\"v1\""`).
    /// A request whose `If-None-Match` matches it (or is `*`) gets a 304
    /// with no body.
    pub etag: Option<String>,
    /// Further response headers, sent verbatim after the ones above.
    pub headers: Vec<(String, String)>,
    /// Response body.
    pub body: Vec<u8>,
    /// Wait this long before answering (interrupted by server drop).
    pub delay: Duration,
    /// Never answer; the connection thread waits until the server is dropped.
    pub hang: bool,
    /// Close the TCP socket abruptly (SO_LINGER 0 → RST) without answering.
    pub reset: bool,
    /// Send the headers with the full `Content-Length` but only this many
    /// body bytes, then close the connection (no TLS close_notify).
    pub truncate_to: Option<usize>,
    /// Adds `Location: <this>`.
    pub redirect_to: Option<String>,
    /// Send `Connection: close` and close the connection after responding.
    pub close: bool,
    /// Write these bytes verbatim instead of a response, then close
    /// (for malformed-HTTP tests).
    pub raw: Option<Vec<u8>>,
}

impl Default for Route {
    fn default() -> Self {
        Route {
            status: 200,
            content_type: Some("application/json".to_string()),
            cache_control: None,
            etag: None,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
            hang: false,
            reset: false,
            truncate_to: None,
            redirect_to: None,
            close: false,
            raw: None,
        }
    }
}

impl Route {
    /// 200, `application/json`, body = serialized `value`.
    pub fn json(value: &serde_json::Value) -> Route {
        Route { body: serde_json::to_vec(value).expect("serialize json"), ..Route::default() }
    }

    /// 200, `application/json`, body = `body` verbatim (need not be valid JSON).
    pub fn json_str(body: impl Into<String>) -> Route {
        Route { body: body.into().into_bytes(), ..Route::default() }
    }

    /// Given status, `application/json`, empty body.
    pub fn status(status: u16) -> Route {
        Route { status, ..Route::default() }
    }

    /// Given status, `text/plain; charset=utf-8`, given body.
    pub fn text(status: u16, body: impl Into<String>) -> Route {
        Route { status, content_type: Some("text/plain; charset=utf-8".to_string()), body: body.into().into_bytes(), ..Route::default() }
    }

    /// Given status, given content type and raw body bytes.
    pub fn bytes(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Route {
        Route { status, content_type: Some(content_type.to_string()), body: body.into(), ..Route::default() }
    }

    /// 302 with `Location: location`, empty body.
    pub fn redirect(location: impl Into<String>) -> Route {
        Route { status: 302, redirect_to: Some(location.into()), ..Route::default() }
    }

    /// Accepts the request and never answers (until the server is dropped).
    pub fn hang() -> Route {
        Route { hang: true, ..Route::default() }
    }

    /// Resets the TCP connection (RST) instead of answering.
    pub fn reset() -> Route {
        Route { reset: true, ..Route::default() }
    }

    /// Writes `bytes` verbatim as the whole response, then closes.
    pub fn raw(bytes: impl Into<Vec<u8>>) -> Route {
        Route { raw: Some(bytes.into()), ..Route::default() }
    }

    /// Replaces the status.
    pub fn with_status(mut self, status: u16) -> Route {
        self.status = status;
        self
    }
    /// Replaces the body.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Route {
        self.body = body.into();
        self
    }
    /// Sets the Content-Type header.
    pub fn with_content_type(mut self, ct: impl Into<String>) -> Route {
        self.content_type = Some(ct.into());
        self
    }
    /// Sends no Content-Type header.
    pub fn without_content_type(mut self) -> Route {
        self.content_type = None;
        self
    }
    /// Sets the Cache-Control header.
    pub fn with_cache_control(mut self, v: impl Into<String>) -> Route {
        self.cache_control = Some(v.into());
        self
    }
    /// Sets the ETag header (verbatim, include quotes) and enables 304 handling.
    pub fn with_etag(mut self, v: impl Into<String>) -> Route {
        self.etag = Some(v.into());
        self
    }
    /// Appends a response header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Route {
        self.headers.push((name.into(), value.into()));
        self
    }
    /// Delays the answer.
    pub fn with_delay(mut self, d: Duration) -> Route {
        self.delay = d;
        self
    }
    /// Sends only `n` body bytes (with the full Content-Length), then closes.
    pub fn truncated(mut self, n: usize) -> Route {
        self.truncate_to = Some(n);
        self
    }
    /// Closes the connection after this response (`Connection: close`).
    pub fn with_close(mut self) -> Route {
        self.close = true;
        self
    }
}

/// OIDC discovery document with `issuer`, `jwks_uri` and the fields OIDC
/// Discovery marks REQUIRED (`response_types_supported`,
/// `subject_types_supported`, `id_token_signing_alg_values_supported`),
/// plus `authorization_endpoint`/`token_endpoint` under the issuer.
/// Mutate the returned value to add or remove fields.
pub fn oidc_discovery(issuer: &str, jwks_uri: &str) -> serde_json::Value {
    let base = issuer.trim_end_matches('/');
    serde_json::json!({
        "issuer": issuer,
        "jwks_uri": jwks_uri,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported":
            ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"],
    })
}

/// One request as received by the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// e.g. `GET`.
    pub method: String,
    /// Path without the query string, e.g. `/jwks`.
    pub path: String,
    /// Raw query string without the `?` (empty if none).
    pub query: String,
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: String,
    /// Header names and values as sent (names keep their case), in order.
    pub headers: Vec<(String, String)>,
    /// Body (chunked bodies are de-chunked).
    pub body: Vec<u8>,
    /// Server-unique id of the TCP connection it arrived on (1, 2, …).
    pub connection_id: u64,
}

impl RecordedRequest {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// First decoded query parameter with this name.
    pub fn query_param(&self, name: &str) -> Option<String> {
        parse_query(&self.query).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
    /// All decoded query parameters with this name.
    pub fn query_params(&self, name: &str) -> Vec<String> {
        parse_query(&self.query).into_iter().filter(|(k, _)| k == name).map(|(_, v)| v).collect()
    }
    /// First decoded `application/x-www-form-urlencoded` body parameter.
    pub fn form_param(&self, name: &str) -> Option<String> {
        parse_query(&self.body_str()).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
    /// Body as (lossy) UTF-8.
    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

enum Handler {
    Fixed(Route),
    Sequence { routes: Vec<Route>, next: usize },
    Dynamic(HandlerFn),
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Handler>,
    hits: BTreeMap<String, usize>,
    not_modified: BTreeMap<String, usize>,
    responses: BTreeMap<String, usize>,
    last: HashMap<String, RecordedRequest>,
    log: VecDeque<RecordedRequest>,
    connections: usize,
    requests: usize,
    live: HashMap<u64, TcpStream>,
    threads: usize,
}

struct Shared {
    state: Mutex<State>,
    cv: Condvar,
    shutdown: AtomicBool,
    tls: Option<Arc<ServerConfig>>,
    next_conn_id: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    /// Waits until the server shuts down or `deadline` passes.
    /// Returns true if the server is shutting down.
    fn wait_shutdown(&self, deadline: Option<Instant>) -> bool {
        let mut st = self.lock();
        loop {
            if self.shutdown.load(Ordering::SeqCst) {
                return true;
            }
            match deadline {
                Some(d) => {
                    if Instant::now() >= d || self.cv.wait_until(&mut st, d).timed_out() {
                        return self.shutdown.load(Ordering::SeqCst);
                    }
                }
                None => self.cv.wait(&mut st),
            }
        }
    }
}

/// A loopback HTTP/1.1 server (TLS or plain) on `127.0.0.1:<ephemeral>`.
///
/// Thread per connection, keep-alive, `Connection: close` honoured.
/// Unknown paths answer 404 `{"error":"not_found"}`. All state
/// (routes, counters) is shared and may be changed while serving.
/// Dropping the server stops it: the listener and every connection
/// (including hanging / delayed ones) are shut down and `Drop` waits at most
/// [`DROP_WAIT`] for the threads to exit.
pub struct FixtureServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    tls: bool,
}

impl FixtureServer {
    /// HTTPS server presenting `ca`'s default leaf (IP 127.0.0.1 + localhost).
    pub fn start_https(ca: &TestCa) -> FixtureServer {
        Self::start(Some(ca.server_config()))
    }

    /// HTTPS server with a caller-supplied rustls config (e.g. from
    /// [`TestCa::server_config_for`] for wrong-host / expired certs).
    pub fn start_https_with_config(config: Arc<ServerConfig>) -> FixtureServer {
        Self::start(Some(config))
    }

    /// Plain HTTP server.
    pub fn start_http() -> FixtureServer {
        Self::start(None)
    }

    fn start(tls: Option<Arc<ServerConfig>>) -> FixtureServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr");
        let is_tls = tls.is_some();
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            cv: Condvar::new(),
            shutdown: AtomicBool::new(false),
            tls,
            next_conn_id: AtomicU64::new(1),
        });
        shared.lock().threads = 1;
        let sh = shared.clone();
        let spawned = std::thread::Builder::new().name(format!("fixture-accept-{}", addr.port())).spawn(move || {
            let _guard = ThreadGuard { shared: sh.clone(), conn_id: None };
            accept_loop(&sh, listener);
        });
        if let Err(e) = spawned {
            shared.lock().threads = 0;
            panic!("spawn accept thread: {e}");
        }
        FixtureServer { shared, addr, tls: is_tls }
    }

    /// `https://127.0.0.1:PORT` or `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("{}://{}", if self.tls { "https" } else { "http" }, self.addr)
    }

    /// `base_url() + path` (`path` should start with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url(), path)
    }

    /// Listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Listening port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Whether this is the TLS flavour.
    pub fn is_https(&self) -> bool {
        self.tls
    }

    /// Serves `route` for every request to `path` (exact match on the path
    /// without query string; any method). Replaces whatever was there.
    pub fn set_route(&self, path: &str, route: Route) {
        self.shared.lock().routes.insert(path.to_string(), Handler::Fixed(route));
    }

    /// Serves `routes[0]` for the next hit, `routes[1]` for the one after,
    /// …; the last route then repeats forever. Panics if `routes` is empty.
    pub fn set_sequence(&self, path: &str, routes: Vec<Route>) {
        assert!(!routes.is_empty(), "set_sequence needs at least one route");
        self.shared.lock().routes.insert(path.to_string(), Handler::Sequence { routes, next: 0 });
    }

    /// Computes the response per request. The handler runs on the
    /// connection thread without any server lock held, so it may call back
    /// into this server.
    pub fn set_handler<F>(&self, path: &str, f: F)
    where
        F: Fn(&RecordedRequest) -> Route + Send + Sync + 'static,
    {
        self.shared.lock().routes.insert(path.to_string(), Handler::Dynamic(Arc::new(f)));
    }

    /// Removes the route (requests to `path` then get 404).
    pub fn remove_route(&self, path: &str) {
        self.shared.lock().routes.remove(path);
    }

    /// Serves `oidc_discovery(base_url, base_url + "/jwks")` at
    /// `/.well-known/openid-configuration` and `jwks(keys)` at `/jwks`.
    /// Returns the issuer (= `base_url()`).
    pub fn install_oidc(&self, keys: &[&TestKey]) -> String {
        let issuer = self.base_url();
        let disco = oidc_discovery(&issuer, &self.url("/jwks"));
        self.set_route("/.well-known/openid-configuration", Route::json(&disco));
        self.set_route("/jwks", Route::json(&jwks_value(keys)));
        issuer
    }

    /// Requests received for `path` (query ignored), whatever the route did
    /// with them (including 404s, 304s, hangs and resets). Incremented as
    /// soon as the request has been read, before any response is sent.
    pub fn hits(&self, path: &str) -> usize {
        self.shared.lock().hits.get(path).copied().unwrap_or(0)
    }

    /// Hits per path.
    pub fn all_hits(&self) -> BTreeMap<String, usize> {
        self.shared.lock().hits.clone()
    }

    /// How many requests to `path` were answered 304 Not Modified.
    pub fn not_modified_hits(&self, path: &str) -> usize {
        self.shared.lock().not_modified.get(path).copied().unwrap_or(0)
    }

    /// How many complete responses to `path` have been written (and flushed).
    /// Not incremented for hang / reset / truncate / raw. It is updated
    /// after the flush, so it can trail what a client has already read:
    /// use [`FixtureServer::wait_for_responses`] rather than asserting on
    /// it directly.
    pub fn responses(&self, path: &str) -> usize {
        self.shared.lock().responses.get(path).copied().unwrap_or(0)
    }

    /// TCP connections accepted so far (including failed TLS handshakes).
    pub fn connections(&self) -> usize {
        self.shared.lock().connections
    }

    /// Currently open connections.
    pub fn open_connections(&self) -> usize {
        self.shared.lock().live.len()
    }

    /// Requests received so far (all paths).
    pub fn requests(&self) -> usize {
        self.shared.lock().requests
    }

    /// Headers of the most recent request to `path`.
    pub fn last_request_headers(&self, path: &str) -> Option<Vec<(String, String)>> {
        self.shared.lock().last.get(path).map(|r| r.headers.clone())
    }

    /// The most recent request to `path`.
    pub fn last_request(&self, path: &str) -> Option<RecordedRequest> {
        self.shared.lock().last.get(path).cloned()
    }

    /// The last (at most [`LOG_CAPACITY`]) requests, oldest first.
    pub fn request_log(&self) -> Vec<RecordedRequest> {
        self.shared.lock().log.iter().cloned().collect()
    }

    /// Zeroes hits / not-modified / responses / connections / requests and
    /// clears the request log. Routes (and sequence positions) are kept.
    pub fn reset_counters(&self) {
        let mut st = self.shared.lock();
        st.hits.clear();
        st.not_modified.clear();
        st.responses.clear();
        st.last.clear();
        st.log.clear();
        st.connections = 0;
        st.requests = 0;
    }

    fn wait_until_cond(&self, timeout: Duration, cond: impl Fn(&State) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.lock();
        loop {
            if cond(&st) {
                return true;
            }
            if Instant::now() >= deadline || self.shared.cv.wait_until(&mut st, deadline).timed_out() {
                return cond(&st);
            }
        }
    }

    /// Blocks until `hits(path) >= n` or `timeout`; returns whether reached.
    /// (Condition-variable based, for background activity of the client
    /// under test, e.g. a JWKS refresh thread.)
    pub fn wait_for_hits(&self, path: &str, n: usize, timeout: Duration) -> bool {
        self.wait_until_cond(timeout, |st| st.hits.get(path).copied().unwrap_or(0) >= n)
    }

    /// Blocks until `responses(path) >= n` or `timeout`.
    pub fn wait_for_responses(&self, path: &str, n: usize, timeout: Duration) -> bool {
        self.wait_until_cond(timeout, |st| st.responses.get(path).copied().unwrap_or(0) >= n)
    }

    /// Blocks until `open_connections() == 0` or `timeout`.
    pub fn wait_for_idle(&self, timeout: Duration) -> bool {
        self.wait_until_cond(timeout, |st| st.live.is_empty())
    }
}

impl Drop for FixtureServer {
    fn drop(&mut self) {
        {
            let st = self.shared.lock();
            self.shared.shutdown.store(true, Ordering::SeqCst);
            for s in st.live.values() {
                let _ = s.shutdown(Shutdown::Both);
            }
            self.shared.cv.notify_all();
        }
        // Wake the accept() call.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(500));
        let deadline = Instant::now() + DROP_WAIT;
        let mut st = self.shared.lock();
        while st.threads > 0 {
            if self.shared.cv.wait_until(&mut st, deadline).timed_out() {
                break;
            }
        }
    }
}

impl std::fmt::Debug for FixtureServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FixtureServer").field("base_url", &self.base_url()).finish()
    }
}

/// Decrements the thread count (and unregisters the connection) on exit.
struct ThreadGuard {
    shared: Arc<Shared>,
    conn_id: Option<u64>,
}

impl Drop for ThreadGuard {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        if let Some(id) = self.conn_id {
            st.live.remove(&id);
        }
        st.threads -= 1;
        self.shared.cv.notify_all();
    }
}

fn accept_loop(shared: &Arc<Shared>, listener: TcpListener) {
    loop {
        let accepted = listener.accept();
        if shared.shutdown.load(Ordering::SeqCst) {
            return;
        }
        let tcp = match accepted {
            Ok((s, _)) => s,
            Err(e) => {
                // Transient errors (EMFILE, ECONNABORTED…): back off briefly
                // to avoid spinning; shutdown is re-checked each iteration.
                if e.kind() != io::ErrorKind::Interrupted {
                    shared.wait_shutdown(Some(Instant::now() + Duration::from_millis(10)));
                }
                continue;
            }
        };
        let id = shared.next_conn_id.fetch_add(1, Ordering::SeqCst);
        {
            let mut st = shared.lock();
            if shared.shutdown.load(Ordering::SeqCst) {
                return;
            }
            st.connections += 1;
            if st.live.len() >= MAX_OPEN_CONNECTIONS {
                continue;
            }
            let Ok(clone) = tcp.try_clone() else { continue };
            st.live.insert(id, clone);
            st.threads += 1;
            shared.cv.notify_all();
        }
        let sh = shared.clone();
        let spawned = std::thread::Builder::new().name(format!("fixture-conn-{id}")).spawn(move || {
            let _guard = ThreadGuard { shared: sh.clone(), conn_id: Some(id) };
            serve_connection(&sh, id, tcp);
        });
        if spawned.is_err() {
            let mut st = shared.lock();
            st.live.remove(&id);
            st.threads -= 1;
            shared.cv.notify_all();
        }
    }
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }
    /// Orderly close: TLS close_notify (if `notify`), then FIN.
    fn finish(&mut self, notify: bool) {
        if let (true, Stream::Tls(s)) = (notify, &mut *self) {
            s.conn.send_close_notify();
            let _ = s.flush();
        }
        let _ = self.tcp().shutdown(Shutdown::Write);
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

enum ReadError {
    /// Connection closed / failed / timed out: just drop it.
    Gone,
    /// Malformed request: answer with this status and close.
    Bad(u16),
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> Self {
        ReadError::Gone
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads more bytes into `buf`; Ok(false) on EOF.
fn fill(stream: &mut Stream, buf: &mut Vec<u8>) -> io::Result<bool> {
    let mut tmp = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut tmp) {
            Ok(0) => return Ok(false),
            Ok(n) => {
                buf.extend_from_slice(&tmp[..n]);
                return Ok(true);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

struct ParsedRequest {
    req: RecordedRequest,
    keep_alive: bool,
}

fn read_request(stream: &mut Stream, buf: &mut Vec<u8>, conn_id: u64) -> Result<Option<ParsedRequest>, ReadError> {
    // Head.
    let head_end = loop {
        // Tolerate stray CRLFs between requests (RFC 9112 §2.2).
        while buf.starts_with(b"\r\n") {
            buf.drain(..2);
        }
        if let Some(p) = find(buf, b"\r\n\r\n") {
            break p;
        }
        if buf.len() > MAX_HEAD_BYTES {
            return Err(ReadError::Bad(431));
        }
        if !fill(stream, buf)? {
            return if buf.is_empty() { Ok(None) } else { Err(ReadError::Gone) };
        }
    };
    if head_end > MAX_HEAD_BYTES {
        return Err(ReadError::Bad(431));
    }
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    buf.drain(..head_end + 4);

    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(ReadError::Bad(400));
    };
    if method.is_empty() || !version.starts_with("HTTP/1.") {
        return Err(ReadError::Bad(400));
    }
    let mut headers = Vec::new();
    for line in lines {
        if line.starts_with(' ') || line.starts_with('\t') {
            return Err(ReadError::Bad(400)); // obs-fold
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(ReadError::Bad(400));
        };
        if name.is_empty() || name.ends_with(' ') {
            return Err(ReadError::Bad(400));
        }
        headers.push((name.to_string(), value.trim().to_string()));
    }
    let get = |n: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.clone());

    // Target: origin-form or absolute-form.
    let mut target = target.to_string();
    if let Some(rest) = target.strip_prefix("http://").or_else(|| target.strip_prefix("https://")) {
        target = match rest.find('/') {
            Some(i) => rest[i..].to_string(),
            None => "/".to_string(),
        };
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target.clone(), String::new()),
    };

    // Body. Answer `Expect: 100-continue` so clients such as curl don't
    // stall before sending a body.
    let expects_continue = get("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    let has_body = get("transfer-encoding").is_some() || get("content-length").is_some_and(|v| v.trim() != "0");
    if expects_continue && has_body && buf.is_empty() {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        stream.flush()?;
    }
    let chunked = get("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        read_chunked(stream, buf)?
    } else if let Some(cl) = get("content-length") {
        let len: usize = cl.trim().parse().map_err(|_| ReadError::Bad(400))?;
        if len > MAX_BODY_BYTES {
            return Err(ReadError::Bad(413));
        }
        while buf.len() < len {
            if !fill(stream, buf)? {
                return Err(ReadError::Gone);
            }
        }
        buf.drain(..len).collect()
    } else {
        Vec::new()
    };

    let conn_hdr = get("connection").unwrap_or_default().to_ascii_lowercase();
    let keep_alive = if version == "HTTP/1.0" {
        conn_hdr.split(',').any(|t| t.trim() == "keep-alive")
    } else {
        !conn_hdr.split(',').any(|t| t.trim() == "close")
    };
    Ok(Some(ParsedRequest {
        req: RecordedRequest {
            method: method.to_string(),
            path,
            query,
            version: version.to_string(),
            headers,
            body,
            connection_id: conn_id,
        },
        keep_alive,
    }))
}

fn read_line(stream: &mut Stream, buf: &mut Vec<u8>) -> Result<String, ReadError> {
    loop {
        if let Some(p) = find(buf, b"\r\n") {
            let line = String::from_utf8_lossy(&buf[..p]).into_owned();
            buf.drain(..p + 2);
            return Ok(line);
        }
        if buf.len() > MAX_HEAD_BYTES {
            return Err(ReadError::Bad(400));
        }
        if !fill(stream, buf)? {
            return Err(ReadError::Gone);
        }
    }
}

fn read_chunked(stream: &mut Stream, buf: &mut Vec<u8>) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        let line = read_line(stream, buf)?;
        let size_str = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_str, 16).map_err(|_| ReadError::Bad(400))?;
        if size == 0 {
            // Trailers until empty line.
            loop {
                if read_line(stream, buf)?.is_empty() {
                    return Ok(body);
                }
            }
        }
        if body.len() + size > MAX_BODY_BYTES {
            return Err(ReadError::Bad(413));
        }
        while buf.len() < size + 2 {
            if !fill(stream, buf)? {
                return Err(ReadError::Gone);
            }
        }
        body.extend_from_slice(&buf[..size]);
        if &buf[size..size + 2] != b"\r\n" {
            return Err(ReadError::Bad(400));
        }
        buf.drain(..size + 2);
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    let norm = |s: &str| s.trim().trim_start_matches("W/").to_string();
    let want = norm(etag);
    if_none_match.split(',').any(|t| t.trim() == "*" || norm(t) == want)
}

#[cfg(unix)]
fn set_linger_zero(s: &TcpStream) {
    use std::os::fd::AsRawFd;
    use std::os::raw::{c_int, c_void};
    #[repr(C)]
    struct Linger {
        l_onoff: c_int,
        l_linger: c_int,
    }
    unsafe extern "C" {
        fn setsockopt(fd: c_int, level: c_int, name: c_int, val: *const c_void, len: u32) -> c_int;
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const OPTS: Option<(c_int, c_int)> = Some((1, 13)); // SOL_SOCKET, SO_LINGER
    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd", target_os = "openbsd", target_os = "netbsd"))]
    const OPTS: Option<(c_int, c_int)> = Some((0xffff, 0x0080));
    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd"
    )))]
    const OPTS: Option<(c_int, c_int)> = None;
    if let Some((level, name)) = OPTS {
        let l = Linger { l_onoff: 1, l_linger: 0 };
        // SAFETY: valid fd owned by `s`, pointer/len describe a live `Linger`.
        unsafe {
            setsockopt(s.as_raw_fd(), level, name, &l as *const Linger as *const c_void, std::mem::size_of::<Linger>() as u32);
        }
    }
}

#[cfg(not(unix))]
fn set_linger_zero(_s: &TcpStream) {}

fn not_found() -> Route {
    Route::json(&serde_json::json!({"error": "not_found"})).with_status(404)
}

fn error_route(status: u16) -> Route {
    Route::json(&serde_json::json!({"error": reason(status)})).with_status(status).with_close()
}

fn serve_connection(shared: &Arc<Shared>, conn_id: u64, tcp: TcpStream) {
    let _ = tcp.set_nodelay(true);
    let _ = tcp.set_read_timeout(Some(IDLE_TIMEOUT));
    let _ = tcp.set_write_timeout(Some(WRITE_TIMEOUT));
    let mut stream = match &shared.tls {
        None => Stream::Plain(tcp),
        Some(cfg) => match ServerConnection::new(cfg.clone()) {
            Ok(conn) => Stream::Tls(Box::new(StreamOwned::new(conn, tcp))),
            Err(_) => return,
        },
    };
    let mut buf = Vec::new();
    loop {
        if shared.shutdown.load(Ordering::SeqCst) {
            return;
        }
        let parsed = match read_request(&mut stream, &mut buf, conn_id) {
            Ok(Some(p)) => p,
            Ok(None) | Err(ReadError::Gone) => return,
            Err(ReadError::Bad(status)) => {
                let _ = write_response(&mut stream, &error_route(status), false, "HTTP/1.1", false);
                stream.finish(true);
                return;
            }
        };
        let req = parsed.req;
        let is_head = req.method.eq_ignore_ascii_case("HEAD");

        // Record + choose the route.
        let route = {
            let mut st = shared.lock();
            st.requests += 1;
            *st.hits.entry(req.path.clone()).or_insert(0) += 1;
            st.last.insert(req.path.clone(), req.clone());
            if st.log.len() >= LOG_CAPACITY {
                st.log.pop_front();
            }
            st.log.push_back(req.clone());
            shared.cv.notify_all();
            match st.routes.get_mut(&req.path) {
                None => Ok(not_found()),
                Some(Handler::Fixed(r)) => Ok(r.clone()),
                Some(Handler::Sequence { routes, next }) => {
                    let i = (*next).min(routes.len() - 1);
                    *next = (*next + 1).min(routes.len());
                    Ok(routes[i].clone())
                }
                Some(Handler::Dynamic(f)) => Err(f.clone()),
            }
        };
        let route = match route {
            Ok(r) => r,
            Err(f) => f(&req),
        };

        if route.hang {
            shared.wait_shutdown(None);
            return;
        }
        if !route.delay.is_zero() && shared.wait_shutdown(Some(Instant::now() + route.delay)) {
            return;
        }
        if route.reset {
            set_linger_zero(stream.tcp());
            return;
        }
        if let Some(raw) = &route.raw {
            let _ = stream.write_all(raw);
            let _ = stream.flush();
            stream.finish(true);
            return;
        }

        let not_modified = match (&route.etag, req.header("if-none-match")) {
            (Some(etag), Some(inm)) => etag_matches(inm, etag),
            _ => false,
        };
        let close = route.close || !parsed.keep_alive;
        let ok = if not_modified {
            let r304 = Route { status: 304, body: Vec::new(), truncate_to: None, ..route.clone() };
            shared.lock().not_modified.entry(req.path.clone()).and_modify(|n| *n += 1).or_insert(1);
            write_response(&mut stream, &r304, close, &req.version, true)
        } else {
            write_response(&mut stream, &route, close, &req.version, is_head)
        };
        if route.truncate_to.is_some() && !not_modified {
            stream.finish(false);
            return;
        }
        if ok.is_err() {
            return;
        }
        {
            let mut st = shared.lock();
            *st.responses.entry(req.path.clone()).or_insert(0) += 1;
            shared.cv.notify_all();
        }
        if close {
            stream.finish(true);
            return;
        }
    }
}

fn write_response(stream: &mut Stream, route: &Route, close: bool, version: &str, no_body: bool) -> io::Result<()> {
    let mut out = Vec::with_capacity(256 + route.body.len());
    out.extend_from_slice(format!("HTTP/1.1 {} {}\r\n", route.status, reason(route.status)).as_bytes());
    let is_304 = route.status == 304;
    if !is_304 {
        if let Some(ct) = &route.content_type {
            out.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        out.extend_from_slice(format!("Content-Length: {}\r\n", route.body.len()).as_bytes());
    }
    if let Some(cc) = &route.cache_control {
        out.extend_from_slice(format!("Cache-Control: {cc}\r\n").as_bytes());
    }
    if let Some(etag) = &route.etag {
        out.extend_from_slice(format!("ETag: {etag}\r\n").as_bytes());
    }
    if let Some(loc) = &route.redirect_to {
        out.extend_from_slice(format!("Location: {loc}\r\n").as_bytes());
    }
    for (k, v) in &route.headers {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    if close {
        out.extend_from_slice(b"Connection: close\r\n");
    } else if version == "HTTP/1.0" {
        out.extend_from_slice(b"Connection: keep-alive\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if !no_body && !is_304 {
        match route.truncate_to {
            Some(n) => out.extend_from_slice(&route.body[..n.min(route.body.len())]),
            None => out.extend_from_slice(&route.body),
        }
    }
    stream.write_all(&out)?;
    stream.flush()
}
