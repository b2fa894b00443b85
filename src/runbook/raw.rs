//! The YAML files exactly as written: serde structs that refuse unknown fields, so a typo is an
//! error with a position instead of a silently ignored key. Times stay strings here; they are
//! parsed with their own messages in `runbook::load`.

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use std::fmt;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSession {
    pub format: Option<u32>,
    pub id: String,
    pub title: String,
    pub timezone: String,
    pub date: String,
    #[serde(default)]
    pub notify: RawNotify,
    #[serde(default)]
    pub references: Vec<RawReference>,
    #[serde(default)]
    pub contacts: Vec<RawContact>,
    #[serde(default)]
    pub deadlines: Vec<RawDeadline>,
    #[serde(default)]
    pub choices: Vec<RawChoice>,
    pub phases: Vec<RawPhase>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNotify {
    pub lead_minutes: Option<Vec<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReference {
    pub id: String,
    #[serde(default)]
    pub title: String,
    pub date: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawContact {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDeadline {
    pub id: String,
    pub title: String,
    pub due: String,
    /// The firm's own earlier time to act by; reminders are raised against it.
    pub target: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
}

/// A fact about the firm's setup or the day's arrangements that decides which steps apply,
/// recorded by the operator when it is known (see `runbook::Choice`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChoice {
    pub id: String,
    pub title: String,
    pub options: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPhase {
    pub id: String,
    pub title: String,
    pub start: String,
    pub end: String,
    #[serde(default)]
    pub detail: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRunbook {
    pub format: Option<u32>,
    pub id: String,
    pub role: String,
    pub title: String,
    pub session: String,
    /// The site values its checks refer to as `${name}`, each with what it is.
    pub site: Option<Ordered<String>>,
    pub phases: Ordered<Vec<RawStep>>,
}

/// Where a step's instruction comes from: shown beside it, so that the firm's own practice is
/// never mistaken for an HKEX instruction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    /// Stated in the HKEX notices for this session.
    Notice,
    /// Other public HKEX or industry material.
    Source,
    /// The firm's own practice.
    #[default]
    Practice,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub detail: String,
    #[serde(default)]
    pub basis: Basis,
    #[serde(default)]
    pub system: Systems,
    pub due: Option<String>,
    #[serde(default)]
    pub critical: bool,
    #[serde(default)]
    pub evidence: Vec<RawField>,
    #[serde(default)]
    pub expect: Vec<String>,
    pub command: Option<String>,
    pub not_applicable: Option<String>,
    /// Choices the operator records on this step (as evidence).
    #[serde(default)]
    pub settles: Vec<String>,
    /// The step applies only when every named choice was recorded as the option given.
    pub applies_if: Option<Ordered<String>>,
    /// What drillbook can sense for the step (see `check::spec`).
    pub check: Option<crate::check::spec::RawCheck>,
}

/// An evidence field as written: its name (`logon time`), or a name with the only values it
/// takes (`{field: Drop Copy agrees, options: [yes, no, no Drop Copy]}`).
#[derive(Debug)]
pub enum RawField {
    Free(String),
    Closed(RawClosedField),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClosedField {
    pub field: String,
    pub options: Vec<String>,
}

impl<'de> Deserialize<'de> for RawField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawField;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an evidence field's name, or {field: NAME, options: [OPTION, ...]}")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawField, E> {
                Ok(RawField::Free(v.to_owned()))
            }
            // A plain `- true` or `- 42` is a name, as it was when fields were read as text.
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<RawField, E> {
                Ok(RawField::Free(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawField, E> {
                Ok(RawField::Free(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawField, E> {
                Ok(RawField::Free(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<RawField, A::Error> {
                RawClosedField::deserialize(serde::de::value::MapAccessDeserializer::new(m))
                    .map(RawField::Closed)
            }
        }
        d.deserialize_any(V)
    }
}

/// `system:` as written: one name (`OTP-C`) or a list (`[OMD-C, OMD-CC]`), for a step that
/// exercises several systems and must count for each of them in the report.
#[derive(Debug, Default)]
pub struct Systems(pub Vec<String>);

impl<'de> Deserialize<'de> for Systems {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Systems;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a system name (OTP-C) or a list of them ([OMD-C, OMD-CC])")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Systems, E> {
                Ok(Systems(vec![v.to_owned()]))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Systems, E> {
                Ok(Systems(Vec::new()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Systems, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = a.next_element::<String>()? {
                    out.push(s);
                }
                Ok(Systems(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A YAML mapping read in document order (serde's maps are unordered or need another crate).
#[derive(Debug)]
pub struct Ordered<V>(pub Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V2<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for V2<V> {
            type Value = Ordered<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping from phase id to a list of steps")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, V>()? {
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V2(std::marker::PhantomData))
    }
}
