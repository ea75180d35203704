//! The review queue: the cases a person should look at, found by name, e-mail, person or id,
//! filtered by status, platform, risk flags, assignee and age, sorted by risk or age, in pages
//! that follow one another by their sort keys (keyset), with the number of matching cases.

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;

use super::repo::{Backend, CustomerRow, CURRENT_LINK_JOIN, CUSTOMER_COLUMNS};
use super::Db;
use crate::model::*;
use crate::StoreError;

/// Risk from the latest finished check job: 2 a failure, 1 a warning, 0 all passed, -1 none.
const RISK: &str =
    "COALESCE((SELECT MAX(CASE r.outcome WHEN 'fail' THEN 2 WHEN 'warn' THEN 1 ELSE 0 END) \
     FROM check_results r WHERE r.customer_id = c.id AND r.job_id = (SELECT j.id FROM check_jobs j \
     WHERE j.customer_id = c.id AND j.status = 'done' ORDER BY j.seq DESC LIMIT 1)), -1)";

/// Whether the latest finished check job's sanctions check failed (a hit).
const SANCTIONS_HIT: &str = "EXISTS (SELECT 1 FROM check_results r WHERE r.customer_id = c.id \
     AND r.kind = 'sanctions' AND r.outcome = 'fail' AND r.job_id = (SELECT j.id FROM check_jobs j \
     WHERE j.customer_id = c.id AND j.status = 'done' ORDER BY j.seq DESC LIMIT 1))";

const FAILED_CHECKS: &str =
    "EXISTS (SELECT 1 FROM check_jobs fj WHERE fj.customer_id = c.id AND fj.status = 'failed')";

/// `%text%` for LIKE, with the pattern characters of the text escaped (`ESCAPE '\'`).
fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for ch in text.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// The matching cases with their queue columns, before paging: `SELECT … FROM (this) q`.
fn matching<'a>(b: &mut QueryBuilder<'a, Db>, q: &'a QueueQuery, now: DateTime<Utc>) {
    b.push(format!(
        "SELECT {CUSTOMER_COLUMNS}, p.name AS platform_name, c.submitted_at, \
         COALESCE(c.submitted_at, c.created_at) AS since, {RISK} AS risk, \
         {SANCTIONS_HIT} AS sanctions_hit, {FAILED_CHECKS} AS failed_checks, \
         o.email AS assignee_email, \
         (SELECT COUNT(DISTINCT d.operator_id) FROM case_decisions d WHERE d.customer_id = c.id \
          AND d.action = 'first_approval' AND d.created_at >= COALESCE(c.submitted_at, c.created_at)) \
          AS first_approvals \
         FROM business_customers c JOIN platforms p ON p.id = c.platform_id {CURRENT_LINK_JOIN} \
         LEFT JOIN operators o ON o.id = c.assignee_id \
         WHERE c.created_at <= "
    ));
    // The first value bound: `CURRENT_LINK_JOIN` reads it as `$1` too.
    b.push_bind(now);
    match q.status {
        QueueStatus::Open => b.push(
            " AND (c.verification_status = 'in_review' \
             OR (c.verification_status = 'approved' AND c.review_flag IS NOT NULL))",
        ),
        QueueStatus::Is(status) => b
            .push(" AND c.verification_status = ")
            .push_bind(status.as_str()),
        QueueStatus::All => b.push(""),
    };
    if let Some(platform) = &q.platform {
        b.push(" AND c.platform_id = ").push_bind(platform.as_str());
    }
    if let Some(visible) = &q.visible {
        // `(1 = 0 OR …)`: an empty list sees nothing (`IN ()` is not SQL).
        b.push(" AND (1 = 0");
        for p in visible {
            b.push(" OR c.platform_id = ").push_bind(p.as_str());
        }
        b.push(")");
    }
    match q.flag {
        Some(QueueFlag::SanctionsHit) => b.push(format!(" AND {SANCTIONS_HIT}")),
        Some(QueueFlag::NewHit) => b.push(" AND c.review_flag = 'sanctions_new_hit'"),
        Some(QueueFlag::FailedCheck) => b.push(format!(" AND {FAILED_CHECKS}")),
        None => b.push(""),
    };
    match &q.assignee {
        QueueAssignee::Anyone => {}
        QueueAssignee::Unassigned => {
            b.push(" AND c.assignee_id IS NULL");
        }
        QueueAssignee::Operator(id) => {
            b.push(" AND c.assignee_id = ").push_bind(id.as_str());
        }
    }
    if let Some(days) = q.older_than_days {
        // At most a century back: any number a URL holds gives a time both databases store.
        let days = i64::from(days.min(36_500));
        b.push(" AND COALESCE(c.submitted_at, c.created_at) < ")
            .push_bind(now - chrono::Duration::days(days));
    }
    let search = q.search.trim();
    if !search.is_empty() {
        let pattern = contains_pattern(search);
        b.push(" AND (c.id = ")
            .push_bind(search)
            .push(" OR LOWER(c.business_name) LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\' OR LOWER(c.business_email) LIKE ")
            .push_bind(pattern.clone())
            .push(
                " ESCAPE '\\' OR EXISTS (SELECT 1 FROM people pp WHERE pp.customer_id = c.id \
                 AND LOWER(pp.full_name) LIKE ",
            )
            .push_bind(pattern)
            .push(" ESCAPE '\\'))");
    }
}

impl Backend {
    /// One page of the review queue (see [`QueueQuery`]) and the number of matching cases.
    pub async fn review_queue(
        &self,
        q: &QueueQuery,
        now: DateTime<Utc>,
    ) -> Result<QueuePage, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            customer: CustomerRow,
            platform_name: String,
            submitted_at: Option<DateTime<Utc>>,
            since: DateTime<Utc>,
            risk: i32,
            sanctions_hit: bool,
            failed_checks: bool,
            assignee_email: Option<String>,
            first_approvals: i64,
        }
        let limit = q.limit.clamp(1, 200);
        let mut count = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM (");
        matching(&mut count, q, now);
        count.push(") q");
        let total: i64 = count.build_query_scalar().fetch_one(&self.pool).await?;

        let mut page = QueryBuilder::<Db>::new("SELECT * FROM (");
        matching(&mut page, q, now);
        page.push(") q WHERE 1 = 1");
        if let Some(after) = &q.after {
            let risk_first = q.sort == QueueSort::Risk;
            page.push(" AND (");
            if risk_first {
                page.push("q.risk < ")
                    .push_bind(after.risk)
                    .push(" OR (q.risk = ")
                    .push_bind(after.risk)
                    .push(" AND (");
            }
            page.push("q.since > ")
                .push_bind(after.since)
                .push(" OR (q.since = ")
                .push_bind(after.since)
                .push(" AND q.id > ")
                .push_bind(after.id.as_str())
                .push(")");
            if risk_first {
                page.push("))");
            }
            page.push(")");
        }
        page.push(match q.sort {
            QueueSort::Risk => " ORDER BY q.risk DESC, q.since ASC, q.id ASC LIMIT ",
            QueueSort::Age => " ORDER BY q.since ASC, q.id ASC LIMIT ",
        });
        page.push_bind(i64::from(limit) + 1);
        let mut rows: Vec<Row> = page.build_query_as().fetch_all(&self.pool).await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let items: Vec<QueueItem> = rows
            .into_iter()
            .map(|r| {
                Ok(QueueItem {
                    customer: r.customer.try_into()?,
                    platform_name: r.platform_name,
                    submitted_at: r.submitted_at,
                    since: r.since,
                    risk: r.risk,
                    sanctions_hit: r.sanctions_hit,
                    failed_checks: r.failed_checks,
                    assignee_email: r.assignee_email,
                    first_approvals: r.first_approvals,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        let next = items.last().filter(|_| more).map(|last| QueueCursor {
            risk: last.risk,
            since: last.since,
            id: last.customer.id.to_string(),
        });
        Ok(QueuePage { items, total, next })
    }
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn search_text_cannot_be_a_pattern() {
        assert_eq!(contains_pattern("Acme"), "%acme%");
        assert_eq!(contains_pattern("100%_a\\b"), "%100\\%\\_a\\\\b%");
    }
}
