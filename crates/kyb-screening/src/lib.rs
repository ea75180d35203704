//! Sanctions screening and registry checks, with no IO of their own: parsers take bytes, the
//! index takes names, providers take what a caller loaded.
//!
//! A name goes through one pipeline wherever it comes from (the API, the hosted flow, the
//! console, the command line, a list file): `text` (NFKC, invisible characters removed, every
//! script to Latin, look-alike letters to their Latin skeleton), `names` (tokens, legal forms,
//! titles, particles, initials, surnames), then `index` (per-word matching that knows typos,
//! transliteration and phonetic variants, particles, initials and partial names), and
//! `screener` (all lists together, dates of birth and countries weighed).
#![forbid(unsafe_code)]

pub mod evaluation;
pub mod index;
pub mod keys;
pub mod lists;
pub mod names;
pub mod registry;
pub mod screener;
pub mod text;

pub use index::{Explanation, How, Index, ListedName, Match, WordMatch, DEFAULT_THRESHOLD};
pub use lists::dates::Agreement;
pub use lists::{Alias, AliasKind, DateOfBirth, EntryKind, ListEntry, ParseError, Parsed, Source};
pub use registry::{LocalRegistry, RegistryMatch, RegistryProvider};
pub use screener::{hit_entry, AttributeCheck, Hit, LoadedList, Screener, Subject, SubjectKind};
