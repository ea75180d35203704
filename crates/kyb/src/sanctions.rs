//! `kyb sanctions`: import list files as new versions, list the versions, and screen names
//! against the current lists of the configured database.

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use kyb_screening::{listed_names, parse_sdn, Index, SdnEntry, DEFAULT_THRESHOLD};
use kyb_store::{Imported, SanctionsList, Store};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// The list formats kyb reads.
const SOURCES: &[&str] = &["ofac-sdn"];

#[derive(Subcommand)]
pub enum SanctionsCommand {
    /// Import a list file as a new version. All or nothing: a bad file changes nothing and the
    /// error names its line.
    Import {
        /// The list's format: ofac-sdn (OFAC's sdn.csv).
        #[arg(long, value_name = "SOURCE")]
        source: String,
        /// The list's publication date, YYYY-MM-DD; by default the date in the file's name
        /// (sdn-2024-05-03.csv).
        #[arg(long, value_name = "DATE")]
        date: Option<String>,
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// The imported versions, newest first.
    Lists {
        #[arg(long)]
        json: bool,
    },
    /// Screen names against the current version of every list.
    Screen {
        /// One name to screen.
        #[arg(value_name = "NAME", conflicts_with = "file")]
        name: Option<String>,
        /// A file with one name per line (`-` for standard input).
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// One JSON line per name, with its hits.
        #[arg(long)]
        json: bool,
        /// The score from which a name is a hit (0 to 1).
        #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
        threshold: f64,
    },
}

/// The date in a file name like `sdn-2024-05-03.csv`.
fn date_in_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let bytes = name.as_bytes();
    let shape = |w: &[u8]| {
        w.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        })
    };
    (0..bytes.len().saturating_sub(9)).find_map(|i| {
        let candidate = &name[i..i + 10];
        (shape(&bytes[i..i + 10])
            && chrono::NaiveDate::parse_from_str(candidate, "%Y-%m-%d").is_ok())
        .then(|| candidate.to_owned())
    })
}

fn describe(list: &SanctionsList) -> String {
    format!(
        "{} ({} {}): {} entries, {} aliases, imported {}",
        list.id,
        list.source,
        list.list_date,
        list.entry_count,
        list.alias_count,
        list.imported_at.format("%Y-%m-%d %H:%M:%S UTC")
    )
}

pub async fn run(store: &Store, command: &SanctionsCommand) -> Result<()> {
    match command {
        SanctionsCommand::Import {
            source,
            date,
            file,
            json,
        } => {
            if !SOURCES.contains(&source.as_str()) {
                bail!(
                    "--source {source:?} is not a list kyb reads; use one of: {}",
                    SOURCES.join(", ")
                );
            }
            let list_date = match date {
                Some(d) => {
                    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                        .with_context(|| format!("--date {d:?} must be a date like 2024-05-03"))?;
                    d.clone()
                }
                None => date_in_name(file).with_context(|| {
                    format!(
                        "{} has no date in its name: say the list's date with --date YYYY-MM-DD",
                        file.display()
                    )
                })?,
            };
            let bytes =
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            let entries = parse_sdn(&bytes).map_err(|e| {
                anyhow::anyhow!("{} is not a valid {source} list: {e}", file.display())
            })?;
            let sha256 = hex::encode(Sha256::digest(&bytes));
            let now = chrono::Utc::now();
            let outcome = store
                .import_sanctions(source, &list_date, &sha256, &entries, now)
                .await?;
            let (list, fresh, rescreens) = match outcome {
                Imported::New(l, n) => (l, true, n),
                Imported::AlreadyImported(l) => (l, false, 0),
            };
            if *json {
                let mut v = serde_json::to_value(&list)?;
                v["already_imported"] = json!(!fresh);
                v["customers_to_rescreen"] = json!(rescreens);
                println!("{v}");
            } else if fresh {
                println!("imported {}", describe(&list));
                if rescreens > 0 {
                    println!(
                        "{rescreens} approved or in-review customers will be screened again by the running service"
                    );
                }
            } else {
                println!("this file was already imported as {}", describe(&list));
            }
        }
        SanctionsCommand::Lists { json } => {
            let lists = store.sanctions_lists().await?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&lists)?);
            } else if lists.is_empty() {
                println!("no sanctions list imported yet");
            } else {
                for l in &lists {
                    println!("{}", describe(l));
                }
            }
        }
        SanctionsCommand::Screen {
            name,
            file,
            json,
            threshold,
        } => {
            if !(0.0..=1.0).contains(threshold) {
                bail!("--threshold must be between 0 and 1");
            }
            let names: Vec<String> = match (name, file) {
                (Some(n), None) => vec![n.clone()],
                (None, Some(path)) => read_names(path)?,
                _ => bail!("give one NAME, or --file FILE with one name per line"),
            };
            let lists = load_current(store).await?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            for n in &names {
                let hits = screen(&lists, n, *threshold);
                if *json {
                    #[derive(serde::Serialize)]
                    struct Line<'a> {
                        name: &'a str,
                        hits: &'a [Hit<'a>],
                    }
                    serde_json::to_writer(
                        &mut out,
                        &Line {
                            name: n,
                            hits: &hits,
                        },
                    )?;
                    writeln!(out)?;
                } else if hits.is_empty() {
                    writeln!(out, "{n}: no hits")?;
                } else {
                    writeln!(out, "{n}: {} hit(s)", hits.len())?;
                    for h in &hits {
                        let alias = match h.matched_alias {
                            Some(kind) => format!(" matched {kind} {:?}", h.matched),
                            None => String::new(),
                        };
                        writeln!(
                            out,
                            "  {:.3}  {} {} #{} {} [{}; {}]{alias}",
                            h.score,
                            h.list,
                            h.list_date,
                            h.ent_num,
                            h.entry_name,
                            h.kind,
                            h.programs.join(", "),
                        )?;
                    }
                }
            }
            out.flush()?;
        }
    }
    Ok(())
}

fn read_names(path: &Path) -> Result<Vec<String>> {
    let reader: Box<dyn BufRead> = if path == Path::new("-") {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?,
        ))
    };
    let mut names = Vec::new();
    for line in reader.lines() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        let line = line.trim();
        if !line.is_empty() {
            names.push(line.to_owned());
        }
    }
    Ok(names)
}

/// A list version and its index, ready to screen against.
pub struct LoadedList {
    pub list: SanctionsList,
    pub entries: Vec<SdnEntry>,
    pub index: Index,
}

/// The current version of every source that has one.
pub async fn load_current(store: &Store) -> Result<Vec<LoadedList>> {
    let mut lists = Vec::new();
    for source in SOURCES {
        if let Some((list, entries)) = store.current_sanctions(source).await? {
            let index = Index::build(listed_names(&entries));
            lists.push(LoadedList {
                list,
                entries,
                index,
            });
        }
    }
    if lists.is_empty() {
        bail!("no sanctions list imported yet: run kyb sanctions import --source ofac-sdn FILE");
    }
    Ok(lists)
}

/// One hit, explained: the list, the entry, the name or alias that matched, the score.
#[derive(serde::Serialize)]
pub struct Hit<'a> {
    pub score: f64,
    pub list: &'a str,
    pub list_id: &'a str,
    pub list_date: &'a str,
    pub ent_num: i64,
    pub entry_name: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub programs: &'a [String],
    pub matched: String,
    /// `aka`, `fka` or `nka` when an alias matched; `null` for the entry's own name.
    pub matched_alias: Option<&'static str>,
}

/// The hits of one name, best first.
pub fn screen<'a>(lists: &'a [LoadedList], name: &str, threshold: f64) -> Vec<Hit<'a>> {
    let mut hits = Vec::new();
    for l in lists {
        for m in l.index.screen(name, threshold) {
            let e = &l.entries[m.entry as usize];
            hits.push(Hit {
                score: m.score,
                list: &l.list.source,
                list_id: l.list.id.as_str(),
                list_date: &l.list.list_date,
                ent_num: e.ent_num,
                entry_name: &e.name,
                kind: e.kind.as_str(),
                programs: &e.programs,
                matched: m.matched,
                matched_alias: m.alias.map(|a| a.as_str()),
            });
        }
    }
    hits.sort_by(|a, b| b.score.total_cmp(&a.score));
    hits
}
