//! Real crashes: a `drillbook record` child is fed actions as fast as it takes them and
//! SIGKILLed at a random moment, several times over one journal. Every action it acknowledged
//! (`ok SEQ`, printed after the fsync) must be in the replayed state, and the journal must always
//! replay. CRASH_ITERS (default 5) and CRASH_SEED repeat or extend a run; scripts/soak-kill runs
//! the same loop 500 times.

#[path = "support/cli.rs"]
mod cli;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

/// xorshift64*: enough randomness for kill timing, reproducible from the printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_action() {
    let iters: u32 = std::env::var("CRASH_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let seed: u64 = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("crash.jsonl");
    let mut acked_total: Vec<String> = Vec::new();

    for it in 0..iters {
        let mut child = Command::new(cli::BIN)
            .arg("record")
            .arg(&j)
            .args(["--role", "ep", "--operator", "crash"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for l in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        // Wait for the attach, so the kill lands among the actions, not the start-up.
        let ready = rx.recv_timeout(cli::WAIT).expect("ready");
        assert!(ready.starts_with("ready "), "iteration {it}: {ready}");
        let texts: Vec<String> = (0..400).map(|k| format!("crash {it}-{k}")).collect();
        let sent = texts.clone();
        let writer = std::thread::spawn(move || {
            for t in &sent {
                // The child dies mid-stream: a broken pipe ends the writer.
                if writeln!(stdin, "note {t}").is_err() {
                    break;
                }
            }
        });
        // Kill after a random number of acknowledgements (0..60), then a random short delay.
        let after = rng.next() % 60;
        let mut got: Vec<String> = Vec::new();
        while (got.len() as u64) < after {
            match rx.recv_timeout(cli::WAIT) {
                Ok(l) => got.push(l),
                Err(_) => break,
            }
        }
        std::thread::sleep(Duration::from_micros(rng.next() % 3000));
        child.kill().unwrap();
        child.wait().unwrap();
        writer.join().unwrap();
        reader.join().unwrap();
        got.extend(rx.try_iter());
        // Replies come in input order, one per line: the k-th `ok` acknowledges texts[k].
        assert!(
            got.iter().all(|l| l.starts_with("ok ")),
            "iteration {it}: {got:?}"
        );
        let acked = got.len();
        acked_total.extend(texts.iter().take(acked).cloned());

        let replay = drillbook::journal::read(&j)
            .unwrap_or_else(|e| panic!("iteration {it}: the journal does not replay: {e}"));
        let notes: std::collections::HashSet<&str> = replay
            .record
            .notes
            .iter()
            .map(|n| n.text.as_str())
            .collect();
        for t in &acked_total {
            assert!(
                notes.contains(t.as_str()),
                "iteration {it} (CRASH_SEED={seed}): acknowledged `{t}` is not in the replay"
            );
        }
        eprintln!(
            "iteration {it}: {acked} acknowledged, {} in the journal, torn tail: {:?}",
            notes.len(),
            replay.torn
        );
    }
    let out = cli::drillbook(&["log", j.to_str().unwrap()]);
    assert!(out.status.success(), "{}", cli::stderr(&out));
}
