//! The runbook loader under mutated input: bundled runbooks with bytes flipped, lines dropped,
//! duplicated or spliced with YAML syntax (anchors, aliases, flow brackets, tags, tabs). The loader
//! must answer every one with Ok or positioned problems, never a panic.
//!
//! `FUZZ_ITERS` sets the number of cases (default 300 here; `scripts/evidence` runs many more) and
//! `FUZZ_SEED` the seed, so a failure can be replayed.

use std::path::Path;

const TOKENS: &[&str] = &[
    "&a ",
    "*a",
    "[",
    "]",
    "{",
    "}",
    ": ",
    "- ",
    "~",
    "\t",
    "!!binary ",
    "<<: *a",
    "\"",
    "'",
    "#",
    "? ",
    "|",
    ">-",
    "\u{1b}[2J",
    "\u{0}",
    "25:00",
    "~2023-02-30 08:00",
    "phases:",
    "id: x",
    "\n  - ",
    "\n    ",
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: deterministic, no dependency.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, text: &str) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = text.lines().map(|l| l.as_bytes().to_vec()).collect();
    for _ in 0..=rng.below(4) {
        let i = rng.below(lines.len());
        match rng.below(6) {
            0 => {
                lines.remove(i);
            }
            1 => {
                let l = lines[i].clone();
                lines.insert(i, l);
            }
            2 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let at = rng.below(lines[i].len() + 1);
                lines[i].splice(at..at, t.iter().copied());
            }
            3 if !lines[i].is_empty() => {
                let at = rng.below(lines[i].len());
                lines[i][at] = (rng.next() & 0xff) as u8;
            }
            4 => {
                let j = rng.below(lines.len());
                lines.swap(i, j);
            }
            _ => lines.truncate(i),
        }
        if lines.is_empty() {
            break;
        }
    }
    lines.join(&b'\n')
}

#[test]
fn mutated_runbooks_never_panic_the_loader() {
    let iters: usize = std::env::var("FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_d211);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/hkex-ps2-2023-11-25");
    let session = std::fs::read_to_string(src.join("session.yaml")).unwrap();
    let runbooks: Vec<String> = ["ep", "ccep", "hsn", "omd"]
        .iter()
        .map(|r| std::fs::read_to_string(src.join(format!("{r}.yaml"))).unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(seed);
    let (mut ok, mut refused, mut panics, mut slowest) =
        (0usize, 0usize, Vec::new(), std::time::Duration::ZERO);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for case in 0..iters {
        let which = rng.below(runbooks.len() + 1);
        let (sess, rb) = if which == runbooks.len() {
            (mutate(&mut rng, &session), runbooks[0].as_bytes().to_vec())
        } else {
            (
                session.as_bytes().to_vec(),
                mutate(&mut rng, &runbooks[which]),
            )
        };
        std::fs::write(dir.path().join("session.yaml"), &sess).unwrap();
        std::fs::write(dir.path().join("rb.yaml"), &rb).unwrap();
        let paths = vec![dir.path().join("rb.yaml")];
        let t0 = std::time::Instant::now();
        match std::panic::catch_unwind(|| drillbook::runbook::validate_paths(&paths)) {
            Ok(Ok(_)) => ok += 1,
            Ok(Err(problems)) => {
                refused += 1;
                // Every problem is one printable line naming the file.
                for p in problems.iter() {
                    let line = p.to_string();
                    assert!(
                        !line.contains('\n') && !line.contains('\u{1b}'),
                        "case {case}: {line:?}"
                    );
                }
            }
            Err(_) => panics.push(case),
        }
        slowest = slowest.max(t0.elapsed());
    }
    std::panic::set_hook(hook);
    println!(
        "fuzz: {iters} cases, {ok} valid, {refused} refused with problems, {} panics, slowest {slowest:?}",
        panics.len()
    );
    assert!(
        panics.is_empty(),
        "loader panicked on cases {panics:?} (seed {seed})"
    );
    assert!(
        refused > iters / 4,
        "the mutations should break most files: {refused}/{iters}"
    );
}
