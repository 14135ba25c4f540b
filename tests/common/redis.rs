//! A real Redis (Debian package `redis-server`) started by a test on a free 127.0.0.1 port, and
//! a minimal RESP client on `std::net::TcpStream` implementing the DPoP [`ReplayStore`] with
//! `SET key 1 NX EX ttl` (the store a fleet of resource servers would share).
//!
//! The server is stopped when the [`RedisServer`] is dropped, and killed by the kernel if the
//! thread that started it dies first (`PR_SET_PDEATHSIG`), so a crashed test leaves no server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use oidc::core::ReplayStore;

/// How long a started server may take to answer PING (a loaded 2-core CI machine).
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A redis-server child process: no persistence (`--save ''`, `--appendonly no`), loopback only.
pub struct RedisServer {
    child: Option<Child>,
    pub addr: SocketAddr,
}

impl RedisServer {
    /// Start `redis-server` on a free port and wait until it answers PING. Panics (naming the
    /// Debian package) when the binary is missing: these tests are never skipped.
    pub fn start() -> RedisServer {
        let bin = find_redis_server().unwrap_or_else(|| {
            panic!(
                "redis-server not found on PATH: install the Debian package `redis-server` \
                 (scripts/setup.sh does: apt-get install -y redis-server)"
            )
        });
        let mut last = String::new();
        // The free port is found by binding port 0 and closing it again; another process may
        // take it in between, so a start that fails is retried on a new port.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
            let mut cmd = Command::new(&bin);
            cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .args(["--daemonize", "no", "--protected-mode", "yes", "--loglevel", "warning"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let mut child = cmd.spawn().unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            let deadline = Instant::now() + START_TIMEOUT;
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    last = format!("redis-server exited at start-up ({status}) on port {port}");
                    break;
                }
                let c = RespClient::new(addr, Duration::from_secs(2));
                match c.command(&[b"PING"]) {
                    Ok(Reply::Simple(s)) if s == "PONG" => return RedisServer { child: Some(child), addr },
                    other => last = format!("PING on port {port}: {other:?}"),
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("redis-server did not answer within {START_TIMEOUT:?}: {last}");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("redis-server could not be started: {last}");
    }

    /// A replay store on this server.
    pub fn store(&self) -> RedisStore {
        RedisStore::new(self.addr)
    }

    /// A plain client on this server (for test assertions: TTL, SET, ...).
    pub fn client(&self) -> RespClient {
        RespClient::new(self.addr, Duration::from_secs(5))
    }

    /// Stop the server now (SIGKILL) and wait for it; its port then refuses connections.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn find_redis_server() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).chain(["/usr/bin".into(), "/usr/sbin".into()]).map(|d| d.join("redis-server")).find(|p| p.is_file())
}

/// One RESP2 reply (arrays are not needed here and are refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
}

/// Longest reply line or bulk string read.
const MAX_REPLY: usize = 64 * 1024;

/// A minimal RESP client: one command at a time per connection, idle connections kept in a
/// small pool; a connection that saw any error is dropped (never reused half-read).
pub struct RespClient {
    addr: SocketAddr,
    timeout: Duration,
    pool: Mutex<Vec<BufReader<TcpStream>>>,
}

impl RespClient {
    pub fn new(addr: SocketAddr, timeout: Duration) -> RespClient {
        RespClient { addr, timeout, pool: Mutex::new(Vec::new()) }
    }

    fn connect(&self) -> std::io::Result<BufReader<TcpStream>> {
        let s = TcpStream::connect_timeout(&self.addr, self.timeout)?;
        s.set_read_timeout(Some(self.timeout))?;
        s.set_write_timeout(Some(self.timeout))?;
        s.set_nodelay(true)?;
        Ok(BufReader::new(s))
    }

    /// Send one command and read its reply.
    pub fn command(&self, args: &[&[u8]]) -> std::io::Result<Reply> {
        let pooled = self.pool.lock().unwrap().pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => self.connect()?,
        };
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            req.extend_from_slice(a);
            req.extend_from_slice(b"\r\n");
        }
        conn.get_mut().write_all(&req)?;
        let reply = read_reply(&mut conn)?;
        if conn.buffer().is_empty() {
            let mut pool = self.pool.lock().unwrap();
            if pool.len() < 8 {
                pool.push(conn);
            }
        }
        Ok(reply)
    }
}

fn bad(m: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string())
}

fn read_reply(r: &mut BufReader<TcpStream>) -> std::io::Result<Reply> {
    let mut line = Vec::new();
    r.by_ref().take(MAX_REPLY as u64).read_until(b'\n', &mut line)?;
    if !line.ends_with(b"\r\n") {
        return Err(if line.is_empty() { std::io::ErrorKind::UnexpectedEof.into() } else { bad("unterminated reply line") });
    }
    let text = std::str::from_utf8(&line[1..line.len() - 2]).map_err(|_| bad("reply line is not UTF-8"))?.to_string();
    match line[0] {
        b'+' => Ok(Reply::Simple(text)),
        b'-' => Ok(Reply::Error(text)),
        b':' => text.parse().map(Reply::Int).map_err(|_| bad("bad integer reply")),
        b'$' => {
            let n: i64 = text.parse().map_err(|_| bad("bad bulk length"))?;
            if n < 0 {
                return Ok(Reply::Bulk(None));
            }
            if n as usize > MAX_REPLY {
                return Err(bad("bulk reply too large"));
            }
            let mut body = vec![0; n as usize + 2];
            r.read_exact(&mut body)?;
            if !body.ends_with(b"\r\n") {
                return Err(bad("unterminated bulk reply"));
            }
            body.truncate(n as usize);
            Ok(Reply::Bulk(Some(body)))
        }
        _ => Err(bad("unsupported reply type")),
    }
}

/// The DPoP replay store over Redis: `SET key 1 NX EX ttl` answers `+OK` on first use and a nil
/// bulk string (`$-1`) when the key exists (a replay); any error, a timeout or an unexpected
/// reply is `Err(())` (the library then refuses the request with a 503).
pub struct RedisStore {
    client: RespClient,
}

impl RedisStore {
    /// Connect, write and read timeout: short for a request path (a Redis that is down refuses
    /// the connection at once; one that hangs costs this), long enough for a loaded CI machine.
    pub const TIMEOUT: Duration = Duration::from_secs(5);

    pub fn new(addr: SocketAddr) -> RedisStore {
        RedisStore { client: RespClient::new(addr, Self::TIMEOUT) }
    }

    /// `SET key 1 NX EX ttl`: `Ok(true)` first use, `Ok(false)` seen before.
    pub fn set_nx(&self, key: &str, ttl_secs: u64) -> Result<bool, ()> {
        let ttl = ttl_secs.max(1).to_string();
        match self.client.command(&[b"SET", key.as_bytes(), b"1", b"NX", b"EX", ttl.as_bytes()]) {
            Ok(Reply::Simple(s)) if s == "OK" => Ok(true),
            Ok(Reply::Bulk(None)) => Ok(false),
            _ => Err(()),
        }
    }
}

impl ReplayStore for RedisStore {
    fn check_and_record(&self, key: &str, ttl_secs: u64) -> Result<bool, ()> {
        self.set_nx(key, ttl_secs)
    }
}
