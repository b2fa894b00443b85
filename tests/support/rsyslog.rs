//! A private `rsyslogd` for the forwarding tests and the evidence run: listening only on
//! 127.0.0.1 (TCP and UDP, on free ports) and on a Unix socket in a temporary folder, writing
//! drillbook's messages to a file with a template that keeps the structured data. Nothing of the
//! system's logging is touched (no /dev/log, no system configuration).

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Rsyslog {
    pub dir: PathBuf,
    pub tcp: u16,
    pub udp: u16,
    child: Option<Child>,
}

/// A port free on 127.0.0.1 now (the listener is closed before rsyslogd binds it).
fn free_port(udp: bool) -> u16 {
    if udp {
        std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    } else {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }
}

pub fn rsyslogd() -> &'static str {
    for p in ["/usr/sbin/rsyslogd", "/sbin/rsyslogd"] {
        if Path::new(p).exists() {
            return p;
        }
    }
    panic!("rsyslogd is not installed: `apt-get install rsyslog` (.ci/run does it)");
}

impl Rsyslog {
    /// Configure and start one in `dir`.
    pub fn start(dir: &Path) -> Self {
        let (tcp, udp) = (free_port(false), free_port(true));
        std::fs::create_dir_all(dir.join("work")).unwrap();
        let conf = format!(
            r#"global(workDirectory="{d}/work" maxMessageSize="64k")
module(load="imtcp")
module(load="imudp")
module(load="imuxsock" SysSock.Use="off")
input(type="imtcp" address="127.0.0.1" port="{tcp}")
input(type="imudp" address="127.0.0.1" port="{udp}")
input(type="imuxsock" Socket="{d}/log.sock" useSpecialParser="off" parseHostname="on" useSysTimeStamp="off")
template(name="drillbook" type="string" string="%timereported:::date-rfc3339% %hostname% %app-name% %msgid% %structured-data% %msg%\n")
if $app-name == "drillbook" then {{
  action(type="omfile" file="{d}/collected.log" template="drillbook")
}}
stop
"#,
            d = dir.display()
        );
        let mut f = std::fs::File::create(dir.join("rsyslog.conf")).unwrap();
        f.write_all(conf.as_bytes()).unwrap();
        let mut r = Self {
            dir: dir.to_owned(),
            tcp,
            udp,
            child: None,
        };
        r.up();
        r
    }

    /// Start (again), and wait until it listens.
    pub fn up(&mut self) {
        assert!(self.child.is_none());
        let child = Command::new(rsyslogd())
            .args(["-n", "-f"])
            .arg(self.dir.join("rsyslog.conf"))
            .arg("-i")
            .arg(self.dir.join("rsyslog.pid"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("rsyslogd starts");
        self.child = Some(child);
        let start = Instant::now();
        loop {
            let tcp_up = std::net::TcpStream::connect(("127.0.0.1", self.tcp)).is_ok();
            if tcp_up && self.dir.join("log.sock").exists() {
                break;
            }
            if let Some(c) = &mut self.child
                && let Ok(Some(st)) = c.try_wait()
            {
                panic!("rsyslogd exited at start: {st}");
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "rsyslogd does not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stop it as a service manager would (SIGTERM), and wait for it to exit.
    pub fn down(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: signalling our own child by its pid.
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let start = Instant::now();
            while c.try_wait().unwrap().is_none() {
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "rsyslogd does not stop"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    pub fn restart(&mut self) {
        self.down();
        self.up();
    }

    pub fn collected(&self) -> String {
        std::fs::read_to_string(self.dir.join("collected.log")).unwrap_or_default()
    }

    pub fn unix_socket(&self) -> PathBuf {
        self.dir.join("log.sock")
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The structured-data parameters of a collected line (`name="value"` with `\"`, `\\` and `\]`
/// unescaped), and its msgid and hostname.
pub struct Collected {
    pub hostname: String,
    pub app: String,
    pub msgid: String,
    pub params: std::collections::BTreeMap<String, String>,
    pub msg: String,
}

pub fn parse_line(line: &str) -> Option<Collected> {
    let mut it = line.splitn(5, ' ');
    let _time = it.next()?;
    let hostname = it.next()?.to_owned();
    let app = it.next()?.to_owned();
    let msgid = it.next()?.to_owned();
    let rest = it.next()?;
    let rest = rest.strip_prefix("[drillbook@32473")?;
    let b: Vec<char> = rest.chars().collect();
    let mut i = 0;
    let mut params = std::collections::BTreeMap::new();
    loop {
        while b.get(i) == Some(&' ') {
            i += 1;
        }
        if b.get(i) == Some(&']') {
            i += 1;
            break;
        }
        let name_start = i;
        while b.get(i).is_some_and(|c| *c != '=') {
            i += 1;
        }
        let name: String = b[name_start..i].iter().collect();
        i += 1; // =
        if b.get(i) != Some(&'"') {
            return None;
        }
        i += 1;
        let mut value = String::new();
        loop {
            match b.get(i)? {
                '\\' => {
                    value.push(*b.get(i + 1)?);
                    i += 2;
                }
                '"' => {
                    i += 1;
                    break;
                }
                c => {
                    value.push(*c);
                    i += 1;
                }
            }
        }
        params.insert(name, value);
    }
    let msg: String = b[i..].iter().collect::<String>().trim_start().to_owned();
    Some(Collected {
        hostname,
        app,
        msgid,
        params,
        msg,
    })
}
