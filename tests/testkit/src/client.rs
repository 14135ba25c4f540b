//! A tiny blocking HTTP/1.1 client (plain or rustls) for self-tests and
//! ad-hoc checks. Not a general-purpose client: `Content-Length`, chunked
//! and read-to-EOF bodies only, no redirects, no proxies.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use rustls::{ClientConfig, ClientConnection, StreamOwned};
use rustls_pki_types::ServerName;

/// Socket read/write timeout used by [`Conn`].
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// A parsed response.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// Body as (lossy) UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// Body parsed as JSON.
    pub fn json(&self) -> io::Result<serde_json::Value> {
        serde_json::from_slice(&self.body).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }
}

enum S {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Read for S {
    fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
        match self {
            S::Plain(s) => s.read(b),
            S::Tls(s) => s.read(b),
        }
    }
}
impl Write for S {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        match self {
            S::Plain(s) => s.write(b),
            S::Tls(s) => s.write(b),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            S::Plain(s) => s.flush(),
            S::Tls(s) => s.flush(),
        }
    }
}

/// Splits `http(s)://host:port/path?q` into (tls, host, port, path-and-query).
pub fn split_url(url: &str) -> io::Result<(bool, String, u16, String)> {
    let bad = || io::Error::new(io::ErrorKind::InvalidInput, format!("bad url {url:?}"));
    let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(bad());
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() => (h.to_string(), p.parse().map_err(|_| bad())?),
        _ => (authority.to_string(), if tls { 443 } else { 80 }),
    };
    Ok((tls, host, port, path))
}

/// One keep-alive connection.
pub struct Conn {
    stream: S,
    buf: Vec<u8>,
    host: String,
}

impl Conn {
    /// Connects to the scheme/host/port of `base_url` (any path is ignored).
    /// `tls` is required for `https://` URLs (e.g. `ca.client_config()`);
    /// the TLS handshake happens lazily on the first request.
    pub fn connect(base_url: &str, tls: Option<Arc<ClientConfig>>) -> io::Result<Conn> {
        let (is_tls, host, port, _) = split_url(base_url)?;
        let addr = (host.as_str(), port).to_socket_addrs()?.next().ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address"))?;
        let tcp = TcpStream::connect_timeout(&addr, CLIENT_TIMEOUT)?;
        tcp.set_read_timeout(Some(CLIENT_TIMEOUT))?;
        tcp.set_write_timeout(Some(CLIENT_TIMEOUT))?;
        tcp.set_nodelay(true)?;
        let stream = if is_tls {
            let cfg = tls.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "https needs a ClientConfig"))?;
            let name = ServerName::try_from(host.clone()).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            let conn = ClientConnection::new(cfg, name).map_err(io::Error::other)?;
            S::Tls(Box::new(StreamOwned::new(conn, tcp)))
        } else {
            S::Plain(tcp)
        };
        Ok(Conn { stream, buf: Vec::new(), host: format!("{host}:{port}") })
    }

    /// Sets the socket read timeout (default [`CLIENT_TIMEOUT`]).
    pub fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match &self.stream {
            S::Plain(s) => s.set_read_timeout(t),
            S::Tls(s) => s.sock.set_read_timeout(t),
        }
    }

    /// Sends one request and reads the response. `Host` and (for a
    /// non-empty body) `Content-Length` are added automatically.
    /// A body cut short by the server is an `UnexpectedEof` error.
    pub fn request(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> io::Result<Response> {
        let mut out = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        for (k, v) in headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() || method == "POST" || method == "PUT" {
            out.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(body);
        self.stream.write_all(&bytes)?;
        self.stream.flush()?;
        self.read_response(method == "HEAD")
    }

    /// `GET path`.
    pub fn get(&mut self, path: &str) -> io::Result<Response> {
        self.request("GET", path, &[], &[])
    }

    fn fill(&mut self) -> io::Result<bool> {
        let mut tmp = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut tmp) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.buf.extend_from_slice(&tmp[..n]);
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn eof() -> io::Error {
        io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed mid-response")
    }

    fn line(&mut self) -> io::Result<String> {
        loop {
            if let Some(p) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let l = String::from_utf8_lossy(&self.buf[..p]).into_owned();
                self.buf.drain(..p + 2);
                return Ok(l);
            }
            if !self.fill()? {
                return Err(Self::eof());
            }
        }
    }

    fn take(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if !self.fill()? {
                return Err(Self::eof());
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    fn read_response(&mut self, head_only: bool) -> io::Result<Response> {
        let status_line = self.line()?;
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("bad status line {status_line:?}")))?;
        let mut headers = Vec::new();
        loop {
            let l = self.line()?;
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let mut resp = Response { status, headers, body: Vec::new() };
        if head_only || status == 304 || status == 204 || (100..200).contains(&status) {
            return Ok(resp);
        }
        if resp.header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
            loop {
                let l = self.line()?;
                let size = usize::from_str_radix(l.split(';').next().unwrap_or("").trim(), 16)
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
                if size == 0 {
                    while !self.line()?.is_empty() {}
                    break;
                }
                let mut chunk = self.take(size + 2)?;
                chunk.truncate(size);
                resp.body.extend_from_slice(&chunk);
            }
        } else if let Some(cl) = resp.header("content-length") {
            let n: usize = cl.parse().map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad content-length"))?;
            resp.body = self.take(n)?;
        } else {
            while self.fill()? {}
            resp.body = std::mem::take(&mut self.buf);
        }
        Ok(resp)
    }
}

/// One-shot request on a fresh connection (sends `Connection: close`).
pub fn request(method: &str, url: &str, tls: Option<Arc<ClientConfig>>, headers: &[(&str, &str)], body: &[u8]) -> io::Result<Response> {
    let (_, _, _, path) = split_url(url)?;
    let mut conn = Conn::connect(url, tls)?;
    let mut h: Vec<(&str, &str)> = headers.to_vec();
    h.push(("Connection", "close"));
    conn.request(method, &path, &h, body)
}

/// One-shot `GET url`.
pub fn get(url: &str, tls: Option<Arc<ClientConfig>>) -> io::Result<Response> {
    request("GET", url, tls, &[], &[])
}

/// One-shot `POST url` with the given body.
pub fn post(url: &str, tls: Option<Arc<ClientConfig>>, body: &[u8]) -> io::Result<Response> {
    request("POST", url, tls, &[], body)
}
