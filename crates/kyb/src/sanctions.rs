//! `kyb sanctions`: import list files as new versions, list the versions, and screen names
//! against the current lists of the configured database.

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use kyb_screening::lists::{ofac, un};
use kyb_screening::{Hit, Parsed, Screener, Source, Subject, SubjectKind, DEFAULT_THRESHOLD};
use kyb_store::{Imported, SanctionsList, Store};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum SanctionsCommand {
    /// Import a list as a new version. All or nothing: a bad file changes nothing and the error
    /// names the file, its line (or XML element) and what is wrong.
    Import {
        /// The list's format: ofac-sdn (OFAC's sdn.csv, or a folder with sdn.csv and, when
        /// present, alt.csv, add.csv and sdn_comments.csv), ofac-consolidated (cons_prim.csv, or
        /// a folder with cons_prim.csv, cons_alt.csv, cons_add.csv, cons_comments.csv) or
        /// un-consolidated (the UN Security Council's consolidated list XML).
        #[arg(long, value_name = "SOURCE")]
        source: String,
        /// The list's publication date, YYYY-MM-DD; by default the date the UN's XML gives, or a
        /// date in the path (sdn-2024-05-03.csv).
        #[arg(long, value_name = "DATE")]
        date: Option<String>,
        #[arg(value_name = "PATH")]
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

fn no_date(path: &Path) -> String {
    format!(
        "{} says no date: give the list's publication date with --date YYYY-MM-DD",
        path.display()
    )
}

/// A date `YYYY-MM-DD` in a path's file or folder names, the last one first
/// (`lists/2024-05-03/sdn.csv`, `sdn-2024-05-03.csv`).
fn date_in_path(path: &Path) -> Option<String> {
    path.components().rev().find_map(|c| {
        let name = c.as_os_str().to_str()?;
        let bytes = name.as_bytes();
        let shape = |w: &[u8]| {
            w.iter().enumerate().all(|(i, b)| match i {
                4 | 7 => *b == b'-',
                _ => b.is_ascii_digit(),
            })
        };
        (0..bytes.len().saturating_sub(9)).find_map(|i| {
            let candidate = name.get(i..i + 10)?;
            (shape(&bytes[i..i + 10])
                && chrono::NaiveDate::parse_from_str(candidate, "%Y-%m-%d").is_ok())
            .then(|| candidate.to_owned())
        })
    })
}

/// Reads a list from a file or a folder and parses it. The SHA-256 is that of the files read,
/// each named: `name\0sha256\n` for each, in the order main, aliases, addresses, comments (for
/// a single file, the file's own SHA-256).
fn read_list(source: Source, path: &Path) -> Result<(Parsed, String)> {
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("cannot read {}", p.display()));
    let invalid = |e: kyb_screening::ParseError| {
        anyhow::anyhow!(
            "{} is not a valid {} list: {e}",
            path.display(),
            source.as_str()
        )
    };
    if source == Source::UnConsolidated {
        if path.is_dir() {
            bail!(
                "{} is a folder: give the UN list's XML file",
                path.display()
            );
        }
        let bytes = read(path)?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("list.xml");
        let parsed = un::parse(name, &bytes).map_err(invalid)?;
        return Ok((parsed, hex::encode(Sha256::digest(&bytes))));
    }
    let names: [&str; 4] = if source == Source::OfacSdn {
        ["sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv"]
    } else {
        [
            "cons_prim.csv",
            "cons_alt.csv",
            "cons_add.csv",
            "cons_comments.csv",
        ]
    };
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    if path.is_dir() {
        for (i, n) in names.iter().enumerate() {
            let p = path.join(n);
            if p.exists() {
                files.push(((*n).to_owned(), read(&p)?));
            } else if i == 0 {
                bail!(
                    "{} holds no {n}: give the folder of an OFAC publication, or the file itself",
                    path.display()
                );
            } else {
                files.push((String::new(), Vec::new()));
            }
        }
    } else {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(names[0]);
        files.push((name.to_owned(), read(path)?));
    }
    let file = |i: usize| {
        files
            .get(i)
            .filter(|(n, _)| !n.is_empty())
            .map(|(n, b)| ofac::File { name: n, bytes: b })
    };
    let parsed = ofac::parse(&ofac::Files {
        main: file(0).expect("the main file was read"),
        alt: file(1),
        add: file(2),
        comments: file(3),
    })
    .map_err(invalid)?;
    let sha256 = if files.len() == 1 {
        hex::encode(Sha256::digest(&files[0].1))
    } else {
        let mut h = Sha256::new();
        for (n, b) in files.iter().filter(|(n, _)| !n.is_empty()) {
            h.update(format!("{n}\0{}\n", hex::encode(Sha256::digest(b))));
        }
        hex::encode(h.finalize())
    };
    Ok((parsed, sha256))
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
            let Some(kind) = Source::parse(source) else {
                bail!(
                    "--source {source:?} is not a list kyb reads; use one of: {}",
                    Source::ALL.map(Source::as_str).join(", ")
                );
            };
            if let Some(d) = date {
                chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .with_context(|| format!("--date {d:?} must be a date like 2024-05-03"))?;
            }
            // The date first, when the files cannot give it: say so before reading them.
            if date.is_none() && kind != Source::UnConsolidated && date_in_path(file).is_none() {
                bail!(no_date(file));
            }
            let (parsed, sha256) = read_list(kind, file)?;
            // --date, else the date the file gives (the UN's XML), else one in the path.
            let list_date = date
                .clone()
                .or_else(|| parsed.date.clone())
                .or_else(|| date_in_path(file))
                .with_context(|| no_date(file))?;
            let entries = parsed.entries;
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
                v["unmatched_rows"] = parsed
                    .orphans
                    .iter()
                    .map(|(f, n)| (f.clone(), json!(n)))
                    .collect::<serde_json::Map<_, _>>()
                    .into();
                println!("{v}");
            } else if fresh {
                println!("imported {}", describe(&list));
                for (f, n) in parsed.orphans.iter().filter(|(_, n)| *n > 0) {
                    println!(
                        "{f}: {n} rows name an entry that is not in the list; they were left out"
                    );
                }
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
    for (list, entries) in store.current_sanctions_all().await? {
        lists.push(list.loaded(entries)?);
    }
    if lists.is_empty() {
        bail!("no sanctions list imported yet: run kyb sanctions import --source ofac-sdn FILE");
    }
    Ok(Screener::new(lists))
}
