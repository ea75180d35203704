//! The review queue: the cases waiting for a person, found by name, e-mail, person or id, and
//! filtered by status, platform, risk flags, assignee and age; the riskiest or the oldest first,
//! in pages, with the number of matching cases. The filters are a GET form: a queue view is a
//! link a reviewer can keep or share.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kyb_domain::{PlatformId, VerificationStatus};
use kyb_store::{QueueAssignee, QueueCursor, QueueFlag, QueueQuery, QueueSort, QueueStatus};

use super::{internal, minutes, OperatorSession};
use crate::web::page;
use crate::AppState;

/// Cases per page, unless `per_page` (1 to 200) says otherwise.
const PAGE: u32 = 50;

struct QueueRow {
    id: String,
    name: String,
    email: String,
    platform: String,
    since: String,
    age: String,
    risk: &'static str,
    status: &'static str,
    flags: Vec<&'static str>,
    assignee: String,
    approvals: String,
}

#[derive(Template)]
#[template(path = "console/queue.html")]
struct QueuePage {
    operator: String,
    csrf: String,
    items: Vec<QueueRow>,
    total: i64,
    /// The query string of the next page, or empty.
    next: String,
    /// The filters as sent, to fill the form again.
    f: QueueParams,
    /// (value, label, selected) for each select of the form.
    statuses: Vec<(&'static str, &'static str, bool)>,
    flags: Vec<(&'static str, &'static str, bool)>,
    assignees: Vec<(String, String, bool)>,
    platforms: Vec<(String, String, bool)>,
    sorts: Vec<(&'static str, &'static str, bool)>,
    /// Whether any filter or search is set (for "clear the filters").
    filtered: bool,
    /// Whether to link the Operators page (admins who see every platform).
    manages_operators: bool,
}

#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub(super) struct QueueParams {
    q: String,
    status: String,
    platform: String,
    flag: String,
    assignee: String,
    older_than_days: String,
    sort: String,
    per_page: String,
    after: String,
}

const STATUSES: [(&str, &str); 7] = [
    ("", "Waiting for a decision"),
    ("in_review", "In review"),
    ("more_info", "More information asked"),
    ("pending", "Not submitted yet"),
    ("approved", "Approved"),
    ("rejected", "Rejected"),
    ("all", "Any status"),
];

const FLAGS: [(&str, &str); 4] = [
    ("", "Any"),
    ("sanctions_hit", "Sanctions hit"),
    ("new_hit", "New hit after a list update"),
    ("failed_check", "A check failed"),
];

const SORTS: [(&str, &str); 2] = [("", "Riskiest first"), ("age", "Longest waiting first")];

fn options<'a>(all: &[(&'a str, &'a str)], chosen: &str) -> Vec<(&'a str, &'a str, bool)> {
    all.iter().map(|(v, l)| (*v, *l, *v == chosen)).collect()
}

/// How long a case has waited, in words.
pub(super) fn age(
    since: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let d = now - since;
    match d.num_days() {
        0 => match d.num_hours() {
            0 => "under an hour".to_owned(),
            1 => "1 hour".to_owned(),
            h => format!("{h} hours"),
        },
        1 => "1 day".to_owned(),
        n => format!("{n} days"),
    }
}

impl QueueParams {
    fn query(&self, me: &OperatorSession) -> QueueQuery {
        QueueQuery {
            search: self.q.trim().chars().take(200).collect(),
            status: match self.status.as_str() {
                "all" => QueueStatus::All,
                s => VerificationStatus::parse(s).map_or(QueueStatus::Open, QueueStatus::Is),
            },
            platform: PlatformId::parse(&self.platform).ok(),
            visible: me.visible().map(<[PlatformId]>::to_vec),
            flag: match self.flag.as_str() {
                "sanctions_hit" => Some(QueueFlag::SanctionsHit),
                "new_hit" => Some(QueueFlag::NewHit),
                "failed_check" => Some(QueueFlag::FailedCheck),
                _ => None,
            },
            assignee: match self.assignee.as_str() {
                "" => QueueAssignee::Anyone,
                "mine" => QueueAssignee::Operator(me.operator().id.clone()),
                "unassigned" => QueueAssignee::Unassigned,
                other => QueueAssignee::Operator(other.to_owned()),
            },
            older_than_days: self.older_than_days.trim().parse().ok(),
            sort: if self.sort == "age" {
                QueueSort::Age
            } else {
                QueueSort::Risk
            },
            after: QueueCursor::decode(&self.after),
            limit: self.per_page.parse().map_or(PAGE, |n: u32| n.clamp(1, 200)),
        }
    }

    /// The query string of these filters on the page after `cursor`.
    fn next_page(&self, cursor: &QueueCursor) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", &self.q),
            ("status", &self.status),
            ("platform", &self.platform),
            ("flag", &self.flag),
            ("assignee", &self.assignee),
            ("older_than_days", &self.older_than_days),
            ("sort", &self.sort),
            ("per_page", &self.per_page),
        ] {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        s.append_pair("after", &cursor.encode());
        s.finish()
    }
}

pub(super) async fn queue(
    State(state): State<AppState>,
    me: OperatorSession,
    Query(params): Query<QueueParams>,
) -> Response {
    let now = state.clock.now();
    let query = params.query(&me);
    let (found, platforms, operators) = match tokio::try_join!(
        state.store.review_queue(&query, now),
        state.store.list_platforms(),
        state.store.list_operators(),
    ) {
        Ok(x) => x,
        Err(e) => return internal(e),
    };
    let items = found
        .items
        .iter()
        .map(|i| {
            let c = &i.customer;
            let mut flags = Vec::new();
            if i.sanctions_hit {
                flags.push("sanctions hit");
            }
            if c.review.review_flag.as_deref() == Some("sanctions_new_hit") {
                flags.push("new hit after a list update");
            }
            if i.failed_checks {
                flags.push("a check failed");
            }
            QueueRow {
                id: c.id.to_string(),
                name: c.business_name.clone(),
                email: c.business_email.clone(),
                platform: i.platform_name.clone(),
                since: minutes(i.since),
                age: age(i.since, now),
                risk: match i.risk {
                    2 => "fail",
                    1 => "warn",
                    0 => "pass",
                    _ => "not run",
                },
                status: c.verification_status.as_str(),
                flags,
                assignee: i.assignee_email.clone().unwrap_or_default(),
                approvals: match (i.first_approvals, i.sanctions_hit) {
                    (0, true) if c.verification_status == VerificationStatus::InReview => {
                        "0 of 2 admins".to_owned()
                    }
                    (0, _) => String::new(),
                    (n, _) => format!("{} of 2 admins", n.min(2)),
                },
            }
        })
        .collect();
    let mut assignees = vec![
        (
            String::new(),
            "Anyone".to_owned(),
            params.assignee.is_empty(),
        ),
        (
            "mine".to_owned(),
            "Me".to_owned(),
            params.assignee == "mine",
        ),
        (
            "unassigned".to_owned(),
            "Nobody".to_owned(),
            params.assignee == "unassigned",
        ),
    ];
    assignees.extend(
        operators
            .into_iter()
            .filter(|(_, disabled)| !disabled)
            .map(|(o, _)| {
                let chosen = o.id == params.assignee;
                (o.id, o.email, chosen)
            }),
    );
    let mut platform_options = vec![(
        String::new(),
        "Every platform".to_owned(),
        params.platform.is_empty(),
    )];
    platform_options.extend(platforms.into_iter().filter(|p| me.sees(&p.id)).map(|p| {
        let chosen = p.id.as_str() == params.platform;
        (p.id.to_string(), p.name, chosen)
    }));
    let filtered = [
        &params.q,
        &params.status,
        &params.platform,
        &params.flag,
        &params.assignee,
        &params.older_than_days,
    ]
    .iter()
    .any(|v| !v.is_empty());
    page(
        StatusCode::OK,
        &QueuePage {
            operator: me.operator().email.clone(),
            csrf: me.session.csrf_token.clone(),
            items,
            total: found.total,
            next: found
                .next
                .as_ref()
                .map(|c| params.next_page(c))
                .unwrap_or_default(),
            statuses: options(&STATUSES, &params.status),
            flags: options(&FLAGS, &params.flag),
            sorts: options(&SORTS, &params.sort),
            assignees,
            platforms: platform_options,
            filtered,
            manages_operators: me.operator().role == kyb_store::OperatorRole::Admin
                && me.visible().is_none(),
            f: params,
        },
    )
}
