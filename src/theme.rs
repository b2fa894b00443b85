//! The typed theme: one semantic style per thing the screen shows, loaded from `themes/*.yaml`.
//!
//! The four bundled themes are embedded in the binary. A theme file (bundled or `--theme PATH`)
//! may set only some keys: the rest come from the default theme, so a firm can change one colour
//! without copying the whole file. `NO_COLOR` (set and non-empty) forces the monochrome theme and
//! strips any colour that is left, so every state must read from its glyph and word alone.

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::path::Path;

/// The bundled themes: (name, YAML).
pub const BUNDLED: &[(&str, &str)] = &[
    ("default", include_str!("../themes/default.yaml")),
    ("light", include_str!("../themes/light.yaml")),
    (
        "high-contrast",
        include_str!("../themes/high-contrast.yaml"),
    ),
    ("mono", include_str!("../themes/mono.yaml")),
];

/// A colour as written in a theme file: a name (`yellow`, `light-blue`), `#rrggbb`, or 0-255.
#[derive(Debug, Clone, Copy)]
struct Colour(Color);

impl<'de> Deserialize<'de> for Colour {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse::<Color>().map(Colour).map_err(|_| {
            serde::de::Error::custom(format!(
                "unknown colour `{s}`: use a name (red, light-blue, dark-gray, reset, ...), #rrggbb or 0-255"
            ))
        })
    }
}

/// One style as written in a theme file.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(clippy::struct_excessive_bools)] // The file format: one flag per modifier reads best in YAML.
struct StyleSpec {
    fg: Option<Colour>,
    bg: Option<Colour>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    dim: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default)]
    underline: bool,
    #[serde(default)]
    reversed: bool,
}

impl StyleSpec {
    fn style(self) -> Style {
        let mut s = Style::new();
        if let Some(Colour(c)) = self.fg {
            s = s.fg(c);
        }
        if let Some(Colour(c)) = self.bg {
            s = s.bg(c);
        }
        for (on, m) in [
            (self.bold, Modifier::BOLD),
            (self.dim, Modifier::DIM),
            (self.italic, Modifier::ITALIC),
            (self.underline, Modifier::UNDERLINED),
            (self.reversed, Modifier::REVERSED),
        ] {
            if on {
                s = s.add_modifier(m);
            }
        }
        s
    }
}

macro_rules! theme {
    ($($(#[doc = $doc:literal])* $field:ident),* $(,)?) => {
        /// Semantic styles. Every field is set; a file that omits one inherits the default's.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Theme {
            /// The name given (`default`, `mono`, or the file path).
            pub name: String,
            $($(#[doc = $doc])* pub $field: Style,)*
        }

        /// A theme file: every key optional.
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct ThemeFile {
            $($field: Option<StyleSpec>,)*
        }

        impl ThemeFile {
            fn overlay_onto(&self, mut t: Theme) -> Theme {
                $(if let Some(s) = self.$field { t.$field = s.style(); })*
                t
            }

            #[cfg(test)]
            fn missing(&self) -> Vec<&'static str> {
                let mut out = Vec::new();
                $(if self.$field.is_none() { out.push(stringify!($field)); })*
                out
            }
        }

        impl Theme {
            fn blank(name: &str) -> Self {
                Self { name: name.to_owned(), $($field: Style::new(),)* }
            }

            /// The same theme with every colour removed (modifiers kept): what `NO_COLOR` asks for.
            #[must_use]
            pub fn without_colour(mut self) -> Self {
                $(self.$field = Style { fg: None, bg: None, ..self.$field };)*
                self
            }

            /// Every style, for tests that check a theme as a whole.
            pub fn styles(&self) -> Vec<(&'static str, Style)> {
                vec![$((stringify!($field), self.$field)),*]
            }
        }
    };
}

theme! {
    /// Ordinary text.
    base,
    /// Secondary text: times, hints, the local clock.
    dim,
    /// The header's title line.
    header,
    /// The session clock.
    clock,
    /// Labels in the header and detail pane ("next", "Evidence").
    label,
    /// Phases already over.
    phase_past,
    /// The phase in progress.
    phase_current,
    /// The next phase.
    phase_next,
    /// Later phases.
    phase_later,
    /// The phase whose steps are listed, when browsing another one.
    phase_viewed,
    /// Pane titles and rules.
    rule,
    /// The selected step.
    selection,
    pending,
    done,
    failed,
    skipped,
    not_applicable,
    deferred,
    /// A pending step past its due time.
    overdue,
    /// A step recorded after its due time.
    late,
    /// The critical mark.
    critical,
    /// The notification banner.
    banner,
    /// The REHEARSAL marker (and the WATCHING marker of `watch`).
    rehearsal,
    /// A boundary awaiting confirmation.
    awaiting,
    /// The command to copy.
    command,
    /// Status line: something was recorded.
    status_ok,
    /// Status line: something was not recorded, or was refused.
    status_error,
    /// The input prompt.
    prompt,
    /// Keys in the footer and help.
    key,
    /// The footer's text.
    footer,
    /// Help, handover and picker overlays.
    overlay,
}

/// A theme file that could not be used: `file:line:col: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ThemeError(pub String);

/// The most of a theme file that is read: a theme is a few dozen lines.
const MAX_THEME_BYTES: u64 = 64 * 1024;

fn parse(file: &str, text: &str) -> Result<ThemeFile, ThemeError> {
    if text.trim().is_empty() {
        return Ok(ThemeFile::default());
    }
    crate::runbook::yaml_guard(file, text).map_err(|p| ThemeError(p.to_string()))?;
    crate::runbook::from_yaml::<ThemeFile>(text).map_err(|e| {
        // serde_yaml counts lines and columns from 1, as editors do.
        let (line, col) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        let msg = e.to_string();
        // Drop serde_yaml's own " at line N column M" suffix: the position leads the message.
        let msg = crate::text::diagnostic(msg.split(" at line ").next().unwrap_or(&msg));
        ThemeError(format!("{file}:{line}:{col}: {msg}"))
    })
}

impl Default for Theme {
    fn default() -> Self {
        Self::bundled("default").expect("the bundled default theme parses")
    }
}

impl Theme {
    /// A bundled theme by name.
    pub fn bundled(name: &str) -> Option<Self> {
        let (_, text) = BUNDLED.iter().find(|(n, _)| *n == name)?;
        let base = if name == "default" {
            Theme::blank(name)
        } else {
            Theme::default()
        };
        let file = parse(&format!("themes/{name}.yaml"), text).ok()?;
        Some(Theme {
            name: name.to_owned(),
            ..file.overlay_onto(base)
        })
    }

    /// `--theme NAME|PATH`, with `NO_COLOR` honoured: a bundled name, else a file over the default.
    pub fn load(spec: Option<&str>, no_color: bool) -> Result<Self, ThemeError> {
        if no_color {
            return Ok(Theme::bundled("mono")
                .expect("the bundled mono theme parses")
                .without_colour());
        }
        let Some(spec) = spec else {
            return Ok(Theme::default());
        };
        if let Some(t) = Theme::bundled(spec) {
            return Ok(t);
        }
        let path = Path::new(spec);
        let bytes = crate::files::read_capped(path, MAX_THEME_BYTES).map_err(|e| {
            let names: Vec<&str> = BUNDLED.iter().map(|(n, _)| *n).collect();
            ThemeError(format!(
                "{}: not a bundled theme ({}), and as a file it {e}",
                crate::text::clean_line(spec),
                names.join(", ")
            ))
        })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            ThemeError(format!(
                "{}: is not UTF-8 text",
                crate::text::clean_line(spec)
            ))
        })?;
        let file = parse(spec, &text)?;
        Ok(Theme {
            name: spec.to_owned(),
            ..file.overlay_onto(Theme::default())
        })
    }

    /// Whether `NO_COLOR` asks for no colour: set and not empty (no-color.org).
    pub fn no_color_env() -> bool {
        std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_theme_parses_and_sets_what_it_should() {
        for (name, _) in BUNDLED {
            let t = Theme::bundled(name).unwrap_or_else(|| panic!("{name} parses"));
            assert_eq!(t.name, *name);
        }
        let default = parse("default.yaml", BUNDLED[0].1).unwrap();
        assert_eq!(
            default.missing(),
            Vec::<&str>::new(),
            "the default sets every key"
        );
        let mono = Theme::bundled("mono").unwrap();
        for (k, s) in mono.styles() {
            assert!(
                s.fg.is_none() && s.bg.is_none(),
                "mono sets a colour on {k}"
            );
        }
    }

    #[test]
    fn a_partial_file_falls_back_to_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("mine.yaml");
        std::fs::write(&p, "done: { fg: magenta, bold: true }\n").unwrap();
        let t = Theme::load(Some(p.to_str().unwrap()), false).unwrap();
        assert_eq!(
            t.done,
            Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD)
        );
        assert_eq!(t.failed, Theme::default().failed);
    }

    #[test]
    fn a_bad_file_names_its_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.yaml");
        std::fs::write(&p, "done: { fg: magenta }\nfailed: { fg: purplish }\n").unwrap();
        let e = Theme::load(Some(p.to_str().unwrap()), false).unwrap_err();
        let want = format!("{}:2:", p.display());
        assert!(e.0.starts_with(&want), "{e}");
        assert!(e.0.contains("unknown colour `purplish`"), "{e}");
        std::fs::write(&p, "done: { fg: red }\nsparkle: { bold: true }\n").unwrap();
        let e = Theme::load(Some(p.to_str().unwrap()), false).unwrap_err();
        assert!(e.0.starts_with(&format!("{}:2:1:", p.display())), "{e}");
        assert!(e.0.contains("sparkle"), "{e}");
        let e = Theme::load(Some("no-such-theme"), false).unwrap_err();
        assert!(e.0.contains("not a bundled theme"), "{e}");
    }

    #[test]
    fn no_color_forces_mono_without_any_colour() {
        let t = Theme::load(Some("high-contrast"), true).unwrap();
        assert_eq!(t.name, "mono");
        assert!(
            t.styles()
                .iter()
                .all(|(_, s)| s.fg.is_none() && s.bg.is_none())
        );
    }
}
