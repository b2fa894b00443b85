//! Copying the selected step's command to the operator's clipboard through the terminal (OSC 52),
//! so it reaches the laptop's clipboard over SSH. drillbook does not run the command: it goes
//! to the clipboard, and the operator decides where to paste it.
//!
//! The bytes are built here (pure); the event loop writes them between frames
//! ([`crate::app::Effect::WriteTerminal`], carried out with [`write`]). Inside tmux the sequence
//! is sent twice: plain, which tmux takes itself with `set -g set-clipboard on` (and passes on to
//! the outer terminal), and in tmux's passthrough, which reaches the outer terminal with `set -g
//! allow-passthrough on`. Under GNU screen it goes in screen's passthrough. What is copied is
//! the command as the screen shows it (neutralised by `text::clean_block`): no escape sequence
//! from a runbook reaches the clipboard, where a paste would replay it.

use crate::notify::Wrap;

/// The longest command copied (bytes of text): some terminals drop longer OSC 52 sequences
/// without a word, and a runbook command is a line or two.
pub const MAX_BYTES: usize = 8 * 1024;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (OSC 52's payload).
pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (k, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if k <= chunk.len() {
                out.push(B64[(n >> shift) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The bytes that put `text` on the clipboard of the terminal behind `wrap`.
pub fn osc52(text: &str, wrap: Wrap) -> Vec<u8> {
    let seq = format!("\x1b]52;c;{}\x07", base64(text.as_bytes()));
    let mut out = Vec::with_capacity(seq.len() * 3);
    match wrap {
        Wrap::Tmux => {
            out.extend_from_slice(seq.as_bytes());
            Wrap::Tmux.wrap(&seq, &mut out);
        }
        w => w.wrap(&seq, &mut out),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_examples() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded, "{plain}");
        }
    }

    #[test]
    fn the_sequence_plain_and_inside_tmux() {
        let plain = osc52("ping -c 3 host", Wrap::None);
        assert_eq!(plain, b"\x1b]52;c;cGluZyAtYyAzIGhvc3Q=\x07");
        let tmux = osc52("ping -c 3 host", Wrap::Tmux);
        // Plain first (tmux's own set-clipboard), then the passthrough with every ESC doubled.
        assert!(tmux.starts_with(&plain));
        let rest = &tmux[plain.len()..];
        assert_eq!(
            rest,
            b"\x1bPtmux;\x1b\x1b]52;c;cGluZyAtYyAzIGhvc3Q=\x07\x1b\\".as_slice()
        );
        let screen = osc52("x", Wrap::Screen);
        assert_eq!(screen, b"\x1bP\x1b]52;c;eA==\x07\x1b\\");
    }
}
