//! `kyb sanctions`: import list files as new versions, list the versions, and screen names
//! against the current lists of the configured database.

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use kyb_screening::lists::ofac;
use kyb_screening::{Hit, Screener, Source, Subject, SubjectKind, DEFAULT_THRESHOLD};
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
        /// A file with one name per line, or one JSON object per line
        /// (`{"name": "…", "kind": "person", "dob": "1962", "country": "IRN"}`); `-` for
        /// standard input.
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// The date of birth of the one NAME: YYYY-MM-DD or YYYY.
        #[arg(long, value_name = "DATE", requires = "name")]
        dob: Option<String>,
        /// The nationality (a person) or country (a business) of the one NAME: ISO 3166-1
        /// alpha-3, like IRN.
        #[arg(long, value_name = "CODE", requires = "name")]
        country: Option<String>,
        /// What the one NAME is: person or business.
        #[arg(long, value_name = "KIND", requires = "name")]
        kind: Option<String>,
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
            let entries = ofac::parse_main(&bytes).map_err(|e| {
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
            dob,
            country,
            kind,
        } => {
            if !(0.0..=1.0).contains(threshold) {
                bail!("--threshold must be between 0 and 1");
            }
            let subjects: Vec<Subject> = match (name, file) {
                (Some(n), None) => vec![subject(n, kind.as_deref(), dob.clone(), country.clone())?],
                (None, Some(path)) => read_names(path)?,
                _ => bail!("give one NAME, or --file FILE with one name per line"),
            };
            let screener = load_current(store).await?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            for s in &subjects {
                let hits = screener.screen(s, *threshold);
                if *json {
                    #[derive(serde::Serialize)]
                    struct Line<'a> {
                        name: &'a str,
                        #[serde(skip_serializing_if = "Option::is_none")]
                        dob: Option<&'a str>,
                        #[serde(skip_serializing_if = "Option::is_none")]
                        country: Option<&'a str>,
                        hits: &'a [Hit],
                    }
                    serde_json::to_writer(
                        &mut out,
                        &Line {
                            name: &s.name,
                            dob: s.dob.as_deref(),
                            country: s.country.as_deref(),
                            hits: &hits,
                        },
                    )?;
                    writeln!(out)?;
                } else if hits.is_empty() {
                    writeln!(out, "{}: no hits", s.name)?;
                } else {
                    writeln!(out, "{}: {} hit(s)", s.name, hits.len())?;
                    for h in &hits {
                        let how: Vec<String> = h
                            .explanation
                            .words
                            .iter()
                            .map(|w| format!("{}~{} {}", w.query, w.listed, w.how.as_str()))
                            .collect();
                        writeln!(
                            out,
                            "  {:.3}  {} {} #{} {} [{}; {}] matched {} {:?}{}\n         {}",
                            h.score,
                            h.list.as_str(),
                            h.list_date,
                            h.entry_id,
                            h.entry_name,
                            h.kind.as_str(),
                            h.programs.join(", "),
                            h.matched_kind,
                            h.matched,
                            if h.likely_false_positive {
                                " (likely false positive)"
                            } else {
                                ""
                            },
                            how.join(", "),
                        )?;
                    }
                }
            }
            out.flush()?;
        }
    }
    Ok(())
}

fn subject(
    name: &str,
    kind: Option<&str>,
    dob: Option<String>,
    country: Option<String>,
) -> Result<Subject> {
    let kind = match kind {
        None => SubjectKind::Unknown,
        Some("person") => SubjectKind::Person,
        Some("business") => SubjectKind::Business,
        Some(other) => bail!("--kind {other:?}: use person or business"),
    };
    if let Some(d) = &dob {
        if kyb_screening::DateOfBirth::parse_iso(d, false).is_none() {
            bail!("--dob {d:?} must be a date like 1962-04-01 or a year like 1962");
        }
    }
    if let Some(c) = &country {
        if kyb_screening::lists::countries::code(c).as_deref() != Some(c.as_str()) {
            bail!("--country {c:?} must be an ISO 3166-1 alpha-3 code like IRN");
        }
    }
    Ok(Subject {
        name: name.to_owned(),
        kind,
        dob,
        country,
    })
}

/// Names to screen, one per line: a plain name, or a JSON object with `name` and optionally
/// `kind`, `dob` and `country`.
fn read_names(path: &Path) -> Result<Vec<Subject>> {
    let reader: Box<dyn BufRead> = if path == Path::new("-") {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?,
        ))
    };
    let mut names = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('{') {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct In {
                name: String,
                kind: Option<String>,
                dob: Option<String>,
                country: Option<String>,
            }
            let i: In = serde_json::from_str(line).with_context(|| {
                format!(
                    "{} line {}: not a JSON object like {{\"name\": \"…\", \"dob\": \"1962\", \"country\": \"IRN\"}}",
                    path.display(),
                    n + 1
                )
            })?;
            names.push(
                subject(&i.name, i.kind.as_deref(), i.dob, i.country)
                    .with_context(|| format!("{} line {}", path.display(), n + 1))?,
            );
        } else {
            names.push(Subject::named(line));
        }
    }
    Ok(names)
}

/// Every source's current version, indexed together.
pub async fn load_current(store: &Store) -> Result<Screener> {
    let mut lists = Vec::new();
    for source in SOURCES {
        if let Some((list, entries)) = store.current_sanctions(source).await? {
            lists.push(kyb_screening::LoadedList {
                source: Source::parse(source).unwrap_or(Source::OfacSdn),
                list_id: list.id.to_string(),
                list_date: list.list_date,
                entries,
            });
        }
    }
    if lists.is_empty() {
        bail!("no sanctions list imported yet: run kyb sanctions import --source ofac-sdn FILE");
    }
    Ok(Screener::new(lists))
}
