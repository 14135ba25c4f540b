//! A real HTTP proxy (Debian package `tinyproxy`) started by a test on a free 127.0.0.1 port,
//! in the foreground, logging every CONNECT to a file the test reads to prove a request went
//! through it. Stopped when dropped, and killed with the thread that started it
//! (`PR_SET_PDEATHSIG`).

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TinyProxy {
    child: Option<Child>,
    pub addr: SocketAddr,
    dir: PathBuf,
}

#[derive(Default)]
pub struct ProxyOptions<'a> {
    /// `BasicAuth user password`: CONNECT without them gets 407.
    pub basic_auth: Option<(&'a str, &'a str)>,
    /// `ConnectPort` lines: CONNECT to any other port gets 403 (none: every port allowed).
    pub connect_ports: Vec<u16>,
}

impl TinyProxy {
    pub fn start(opts: ProxyOptions) -> TinyProxy {
        let bin = ["/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("tinyproxy not found: install the Debian package `tinyproxy-bin` (scripts/setup.sh does)"));
        let dir = std::env::temp_dir()
            .join(format!("liboidc-proxy-{}-{:?}", std::process::id(), Instant::now()).replace([' ', '{', '}', ':', ','], ""));
        std::fs::create_dir_all(&dir).unwrap();
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
            let mut conf = format!(
                "Port {port}\nListen 127.0.0.1\nTimeout 30\nLogLevel Connect\nMaxClients 32\nAllow 127.0.0.1\nDisableViaHeader Yes\n"
            );
            if let Some((u, p)) = opts.basic_auth {
                conf += &format!("BasicAuth {u} {p}\n");
            }
            for p in &opts.connect_ports {
                conf += &format!("ConnectPort {p}\n");
            }
            let conf_path = dir.join("tinyproxy.conf");
            std::fs::write(&conf_path, conf).unwrap();
            let log = std::fs::File::create(dir.join("tinyproxy.log")).unwrap();
            let mut cmd = Command::new(&bin);
            cmd.arg("-d").arg("-c").arg(&conf_path).stdin(Stdio::null()).stdout(log.try_clone().unwrap()).stderr(log);
            // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let mut child = cmd.spawn().unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // port taken: retry on another
                }
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return TinyProxy { child: Some(child), addr, dir };
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "tinyproxy did not listen within 30 s: {}",
                        std::fs::read_to_string(dir.join("tinyproxy.log")).unwrap_or_default()
                    );
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("tinyproxy could not be started");
    }

    /// `http://127.0.0.1:port` (with `user:password@` when given).
    pub fn url(&self, creds: Option<(&str, &str)>) -> String {
        match creds {
            Some((u, p)) => format!("http://{u}:{p}@{}", self.addr),
            None => format!("http://{}", self.addr),
        }
    }

    /// The targets (`host:port`) of the CONNECT requests the proxy received, in order.
    pub fn connects(&self) -> Vec<String> {
        let log = std::fs::read_to_string(self.dir.join("tinyproxy.log")).unwrap_or_default();
        log.lines().filter_map(|l| l.split_once("): CONNECT ").map(|(_, r)| r.split(' ').next().unwrap_or("").to_string())).collect()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("tinyproxy.log")).unwrap_or_default()
    }
}

impl Drop for TinyProxy {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
