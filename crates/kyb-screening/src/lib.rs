//! Sanctions screening and registry checks, with no IO of their own: parsers take bytes, the
//! index takes names, providers take what a caller loaded.
#![forbid(unsafe_code)]

pub mod evaluation;
pub mod index;
pub mod normalize;
pub mod ofac;
pub mod registry;

pub use index::{Index, ListedName, Match, DEFAULT_THRESHOLD};
pub use ofac::{parse_sdn, Alias, AliasKind, EntryKind, ParseError, SdnEntry};
pub use registry::{LocalRegistry, RegistryMatch, RegistryProvider};

/// The names of a list to index: every entry's name and each of its aliases.
pub fn listed_names(entries: &[SdnEntry]) -> Vec<ListedName> {
    let mut out = Vec::with_capacity(entries.len() * 2);
    for (i, e) in entries.iter().enumerate() {
        out.push(ListedName {
            entry: i as u32,
            alias: None,
            name: e.name.clone(),
        });
        for a in &e.aliases {
            out.push(ListedName {
                entry: i as u32,
                alias: Some(a.kind),
                name: a.name.clone(),
            });
        }
    }
    out
}
