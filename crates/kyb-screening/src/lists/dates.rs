//! Dates of birth as the lists write them (`10 Dec 1948`, `1946`, `circa 1960`, `1960 to
//! 1965`, `Dec 1960`; the UN's exact, approximate and between forms), and how a person's date of
//! birth compares with them.

use serde::{Deserialize, Serialize};

/// One date of birth an entry gives: a span of years, with the month and day when the list
/// gives a whole date.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DateOfBirth {
    /// As the list writes it.
    pub text: String,
    pub year_from: i32,
    pub year_to: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<u32>,
    /// `circa`, `approximately`: a year or two either way is still this date.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub approximate: bool,
}

/// How far off an approximate year may be.
const APPROXIMATE_YEARS: i32 = 2;

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month(s: &str) -> Option<u32> {
    let s = s.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| s.starts_with(m))
        .map(|i| i as u32 + 1)
}

fn year(s: &str) -> Option<i32> {
    (s.len() == 4)
        .then(|| s.parse().ok())
        .flatten()
        .filter(|y| (1800..=2100).contains(y))
}

/// `[day] [month] year` → (year, month, day).
fn one(s: &str) -> Option<(i32, Option<u32>, Option<u32>)> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    match parts.as_slice() {
        [y] => Some((year(y)?, None, None)),
        [m, y] => Some((year(y)?, Some(month(m)?), None)),
        [d, m, y] => {
            let day: u32 = d.parse().ok().filter(|d| (1..=31).contains(d))?;
            Some((year(y)?, Some(month(m)?), Some(day)))
        }
        _ => None,
    }
}

impl DateOfBirth {
    /// OFAC's forms: `10 Dec 1948`, `1946`, `Dec 1960`, `circa 1960`, `1960 to 1965`,
    /// `01 Jan 1960 to 31 Dec 1962`. `None` for anything else.
    pub fn parse_ofac(text: &str) -> Option<Self> {
        let text = text.trim().trim_end_matches('.').trim();
        let (approximate, rest) = match text.strip_prefix("circa ") {
            Some(r) => (true, r),
            None => (false, text),
        };
        if let Some((a, b)) = rest.split_once(" to ") {
            let (from, _, _) = one(a)?;
            let (to, _, _) = one(b)?;
            return (from <= to).then(|| Self {
                text: text.to_owned(),
                year_from: from,
                year_to: to,
                month: None,
                day: None,
                approximate,
            });
        }
        let (y, m, d) = one(rest)?;
        Some(Self {
            text: text.to_owned(),
            year_from: y,
            year_to: y,
            month: m,
            day: d,
            approximate,
        })
    }

    /// A whole date `YYYY-MM-DD`, or a year `YYYY`.
    pub fn parse_iso(text: &str, approximate: bool) -> Option<Self> {
        let t = text.trim();
        if let Some(y) = year(t) {
            return Some(Self {
                text: t.to_owned(),
                year_from: y,
                year_to: y,
                month: None,
                day: None,
                approximate,
            });
        }
        let d = chrono::NaiveDate::parse_from_str(t.get(..10)?, "%Y-%m-%d").ok()?;
        use chrono::Datelike;
        Some(Self {
            text: t[..10].to_owned(),
            year_from: d.year(),
            year_to: d.year(),
            month: Some(d.month()),
            day: Some(d.day()),
            approximate,
        })
    }

    /// A span of years (the UN's `BETWEEN`).
    pub fn between(from: i32, to: i32) -> Option<Self> {
        (from <= to && year(&from.to_string()).is_some()).then(|| Self {
            text: format!("{from} to {to}"),
            year_from: from,
            year_to: to,
            month: None,
            day: None,
            approximate: false,
        })
    }
}

/// How an attribute of the screened person or business compares with the entry's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agreement {
    /// Both sides give it, and it agrees.
    Agrees,
    /// Both sides give it, and it cannot be the same (a different year of birth).
    Contradicts,
    /// One side does not give it.
    Unknown,
}

/// Compares a date of birth (`YYYY-MM-DD` or `YYYY`) with the entry's dates of birth: it agrees
/// with one of them (the same year, or the same date where the list gives one), contradicts all
/// of them (a year outside every span), or one side has none.
pub fn compare_dob(given: Option<&str>, listed: &[DateOfBirth]) -> Agreement {
    let Some(given) = given.and_then(|g| DateOfBirth::parse_iso(g, false)) else {
        return Agreement::Unknown;
    };
    if listed.is_empty() {
        return Agreement::Unknown;
    }
    let y = given.year_from;
    let fits = |d: &DateOfBirth| {
        let slack = if d.approximate { APPROXIMATE_YEARS } else { 0 };
        y >= d.year_from - slack && y <= d.year_to + slack
    };
    if listed.iter().any(|d| {
        fits(d)
            && match (d.month, d.day, given.month, given.day) {
                (Some(lm), Some(ld), Some(gm), Some(gd)) if !d.approximate => lm == gm && ld == gd,
                _ => true,
            }
    }) {
        Agreement::Agrees
    } else if listed.iter().any(fits) {
        // The year fits, the day does not: a typing slip as likely as another person.
        Agreement::Unknown
    } else {
        Agreement::Contradicts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ofac_forms() {
        let d = DateOfBirth::parse_ofac("10 Dec 1948").unwrap();
        assert_eq!((d.year_from, d.month, d.day), (1948, Some(12), Some(10)));
        let d = DateOfBirth::parse_ofac("circa 1960").unwrap();
        assert!(d.approximate && d.year_from == 1960);
        let d = DateOfBirth::parse_ofac("1960 to 1965").unwrap();
        assert_eq!((d.year_from, d.year_to), (1960, 1965));
        let d = DateOfBirth::parse_ofac("01 Jan 1960 to 31 Dec 1962").unwrap();
        assert_eq!((d.year_from, d.year_to), (1960, 1962));
        assert_eq!(DateOfBirth::parse_ofac("Dec 1960").unwrap().month, Some(12));
        assert!(DateOfBirth::parse_ofac("unknown").is_none());
    }

    #[test]
    fn agreement_rules() {
        let exact = [DateOfBirth::parse_ofac("10 Dec 1948").unwrap()];
        assert_eq!(compare_dob(Some("1948-12-10"), &exact), Agreement::Agrees);
        assert_eq!(compare_dob(Some("1948"), &exact), Agreement::Agrees);
        assert_eq!(compare_dob(Some("1948-03-01"), &exact), Agreement::Unknown);
        assert_eq!(
            compare_dob(Some("1962-12-10"), &exact),
            Agreement::Contradicts
        );
        assert_eq!(compare_dob(None, &exact), Agreement::Unknown);
        assert_eq!(compare_dob(Some("1962"), &[]), Agreement::Unknown);
        let circa = [DateOfBirth::parse_ofac("circa 1960").unwrap()];
        assert_eq!(compare_dob(Some("1962-01-01"), &circa), Agreement::Agrees);
        assert_eq!(
            compare_dob(Some("1963-01-01"), &circa),
            Agreement::Contradicts
        );
        let two = [
            DateOfBirth::parse_ofac("1951").unwrap(),
            DateOfBirth::parse_ofac("1953").unwrap(),
        ];
        assert_eq!(compare_dob(Some("1953-06-01"), &two), Agreement::Agrees);
        assert_eq!(
            compare_dob(Some("1952-06-01"), &two),
            Agreement::Contradicts
        );
    }
}
