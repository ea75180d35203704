//! The automated checks of a submitted case, run by a worker from durable jobs: sanctions
//! screening of the business and every person, the registry match, and the document checks.
//! Each yields pass / warn / fail with reason codes and evidence; the results and the decision
//! they lead to are written in one transaction. A runner that dies leaves its job leased; when
//! the lease expires another runner (or the same, restarted) runs it again.
//!
//! Decision: a case whose checks all pass is approved automatically only if its platform says
//! so (`auto_approve`, default off); anything else waits in review. A re-screening after a newer
//! list flags a case whose hits include entries it did not have before.

use kyb_screening::{hit_entry, RegistryMatch, RegistryProvider, Screener, Subject, SubjectKind};
use kyb_store::{
    CaseFacts, CheckKind, CheckOutcome, ClaimedJob, HitVerdict, JobCompletion, JobKind, JobRetry,
    NewCheckResult, SanctionsList, StoreError, Verdict,
};
use rand::Rng;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, RwLock};

use crate::sandbox::RegistryMagic;
use crate::AppState;

/// How often an idle runner looks for due jobs (writes in this process wake it at once).
const POLL: Duration = Duration::from_secs(1);
/// The current version of every sanctions list and their index, rebuilt when a newer version of
/// any list is imported.
#[derive(Default)]
pub struct ListCache {
    current: RwLock<Option<Arc<LoadedList>>>,
}

pub struct LoadedList {
    /// The current version of each source, in a fixed order.
    pub lists: Vec<SanctionsList>,
    pub screener: Screener,
}

impl ListCache {
    pub async fn get(
        &self,
        store: &kyb_store::Store,
    ) -> Result<Option<Arc<LoadedList>>, StoreError> {
        // Newest first: the first version of each source is its current one.
        let mut current: Vec<SanctionsList> = Vec::new();
        for l in store.sanctions_lists().await? {
            if !current.iter().any(|c| c.source == l.source) {
                current.push(l);
            }
        }
        if current.is_empty() {
            return Ok(None);
        }
        let ids = |lists: &[SanctionsList]| {
            let mut v: Vec<String> = lists.iter().map(|l| l.id.to_string()).collect();
            v.sort();
            v
        };
        if let Some(cached) = self.current.read().await.as_ref() {
            if ids(&cached.lists) == ids(&current) {
                return Ok(Some(cached.clone()));
            }
        }
        let mut lists = Vec::new();
        let mut screened = Vec::new();
        for (list, entries) in store.current_sanctions_all().await? {
            screened.push(list.loaded(entries)?);
            lists.push(list);
        }
        let loaded = tokio::task::spawn_blocking(move || LoadedList {
            lists,
            screener: Screener::new(screened),
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("building the sanctions index failed: {e}")))?;
        let loaded = Arc::new(loaded);
        *self.current.write().await = Some(loaded.clone());
        Ok(Some(loaded))
    }
}

pub struct CheckRunner {
    state: AppState,
    owner: String,
    /// Failed runs whose outcome could not be written because the database was unavailable.
    /// They are written first on the next tick, while this runner still holds their leases:
    /// left to expire, a lease counts as a runner that died, and an outage would use up the
    /// job's attempts.
    unwritten: std::sync::Mutex<Vec<Unwritten>>,
}

/// The outcome of a failed run, waiting to be written.
struct Unwritten {
    job: kyb_domain::CheckJobId,
    error: String,
    retry: JobRetry,
    at: chrono::DateTime<chrono::Utc>,
}

impl CheckRunner {
    pub fn new(state: AppState) -> Self {
        let owner = format!("checks-{:016x}", rand::thread_rng().gen::<u64>());
        Self {
            state,
            owner,
            unwritten: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Writes the outcomes held since an outage; stops at the first that still cannot be
    /// written (the database is still unavailable), keeping it and those after it.
    async fn write_held_outcomes(&self) -> Result<(), StoreError> {
        let held = std::mem::take(&mut *self.unwritten.lock().expect("not poisoned"));
        let mut rest = held.into_iter();
        while let Some(u) = rest.next() {
            let written = self
                .state
                .store
                .retry_check_job(&u.job, &self.owner, &u.error, u.retry, u.at)
                .await;
            if let Err(e) = written {
                let mut unwritten = self.unwritten.lock().expect("not poisoned");
                if e.is_unavailable() {
                    unwritten.push(u);
                }
                unwritten.extend(rest);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Claims due jobs and runs them; returns how many ran. A run that fails is retried with
    /// a growing delay, up to `checks_max_attempts` runs; then the job is `failed`, for a person
    /// to see on the case page and run again.
    pub async fn run_once(&self) -> Result<usize, StoreError> {
        self.write_held_outcomes().await?;
        let settings = self.state.config.checks;
        let now = self.state.clock.now();
        let lease = chrono::Duration::from_std(settings.lease).unwrap_or_default();
        let jobs = self
            .state
            .store
            .claim_check_jobs(&self.owner, now, now + lease, 8, settings.max_attempts)
            .await?;
        let n = jobs.len();
        for job in jobs {
            let Err(e) = self.run(&job).await else {
                self.state.metrics.check_run("done");
                continue;
            };
            let unavailable = e.is_unavailable();
            let error = format!("{:#}", anyhow::Error::from(e));
            let now = self.state.clock.now();
            let retry = if unavailable {
                JobRetry::NotCounted(settings.retry_at(now, 1))
            } else if u32::try_from(job.attempts).unwrap_or(u32::MAX) >= settings.max_attempts {
                JobRetry::GiveUp
            } else {
                JobRetry::At(settings.retry_at(now, job.attempts))
            };
            if retry == JobRetry::GiveUp {
                tracing::error!(job_id = %job.id, customer_id = %job.customer_id, attempts = job.attempts, error,
                    "a check job failed on its last attempt: it waits on the case page for a person to run it again");
                self.state.metrics.check_run("failed");
            } else {
                tracing::warn!(job_id = %job.id, attempts = job.attempts, error, "a check job failed; it will run again");
                self.state.metrics.check_run("retrying");
            }
            let written = self
                .state
                .store
                .retry_check_job(&job.id, &self.owner, &error, retry, now)
                .await;
            match written {
                Ok(()) => {}
                Err(e) if e.is_unavailable() => {
                    tracing::warn!(job_id = %job.id, error = format!("{:#}", anyhow::Error::from(e)),
                        "the outcome of a check run could not be written; it is kept and written when the database answers");
                    self.unwritten
                        .lock()
                        .expect("not poisoned")
                        .push(Unwritten {
                            job: job.id.clone(),
                            error,
                            retry,
                            at: now,
                        });
                }
                Err(e) => return Err(e),
            }
        }
        Ok(n)
    }

    pub fn spawn(self, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let store = self.state.store.clone();
            loop {
                if *stop.borrow() {
                    break;
                }
                let idle = match self.run_once().await {
                    Ok(n) => n == 0,
                    Err(e) => {
                        tracing::warn!(
                            error = format!("{:#}", anyhow::Error::from(e)),
                            "claiming check jobs failed"
                        );
                        true
                    }
                };
                if idle {
                    tokio::select! {
                        _ = store.jobs_wait() => {}
                        _ = tokio::time::sleep(POLL) => {}
                        _ = stop.changed() => {}
                    }
                }
            }
        })
    }

    async fn run(&self, job: &ClaimedJob) -> Result<(), StoreError> {
        let state = &self.state;
        let now = state.clock.now();
        let facts = state
            .store
            .case_facts(&job.platform_id, &job.customer_id, now)
            .await?;
        let lists = state.sanctions.get(&state.store).await?;
        let verdicts = state
            .store
            .hit_verdicts(&job.platform_id, &job.customer_id)
            .await?;
        let started = std::time::Instant::now();
        let sanctions = sanctions_check(lists.as_deref(), &facts, &verdicts);
        state.metrics.screened(started.elapsed());
        let mut flag = None;
        let mut results = vec![sanctions.clone()];
        match job.kind {
            JobKind::Submission => {
                results.push(registry_check(&state.registries, &facts));
                results.push(documents_check(state, &facts));
            }
            JobKind::Rescreen => {
                let before = state
                    .store
                    .list_checks(&job.platform_id, &job.customer_id)
                    .await?;
                let known: Vec<(String, String)> = before
                    .iter()
                    .filter(|c| c.kind == "sanctions")
                    .flat_map(|c| hits(&c.evidence))
                    .filter_map(hit_entry)
                    .collect();
                // A hit not seen before, or one cleared before whose entry has changed since.
                let raised = hits(&sanctions.evidence).filter(|h| h.get("cleared").is_none());
                if raised.into_iter().any(|h| {
                    h["entry_changed_since_verdict"] == true
                        || hit_entry(h).is_some_and(|e| !known.contains(&e))
                }) {
                    flag = Some("sanctions_new_hit".to_owned());
                }
            }
        }
        let clean = results.iter().all(|r| r.outcome == CheckOutcome::Pass);
        let completion = JobCompletion {
            job_id: job.id.clone(),
            lease_owner: self.owner.clone(),
            approve: job.kind == JobKind::Submission && job.auto_approve && clean,
            flag,
            results,
            at: state.clock.now(),
        };
        state
            .store
            .complete_check_job(&completion, |c, previous| {
                vec![state.event(
                    "business_customer.verification_status.updated",
                    c,
                    Some(json!({ "verification_status": previous })),
                )]
            })
            .await?;
        Ok(())
    }
}

/// The hits of a sanctions check's evidence.
fn hits(evidence: &Value) -> impl Iterator<Item = &Value> {
    evidence["hits"].as_array().into_iter().flatten()
}

/// Screens the business's names and every person against every current list. A hit that two
/// admins cleared as a false positive, for the entry as it still is, is kept in the evidence as
/// cleared and does not count; one whose entry changed since is raised again and says so.
pub fn sanctions_check(
    list: Option<&LoadedList>,
    facts: &CaseFacts,
    verdicts: &[HitVerdict],
) -> NewCheckResult {
    let c = &facts.customer;
    let profile = &c.facts.profile;
    let business = |name: &str| Subject {
        name: name.to_owned(),
        kind: SubjectKind::Business,
        dob: None,
        country: Some(c.registered_country.clone()),
    };
    let mut subjects: Vec<(String, Subject)> =
        vec![("business_name".into(), business(&c.business_name))];
    for (label, name) in [
        ("legal_name", &profile.legal_name),
        ("trading_name", &profile.trading_name),
    ] {
        if !name.trim().is_empty()
            && !subjects
                .iter()
                .any(|(_, s)| s.name.eq_ignore_ascii_case(name))
        {
            subjects.push((label.into(), business(name)));
        }
    }
    for p in &facts.people {
        subjects.push((
            format!("person:{}", p.id),
            Subject {
                name: p.full_name.clone(),
                kind: SubjectKind::Person,
                dob: (!p.date_of_birth.is_empty()).then(|| p.date_of_birth.clone()),
                country: (!p.nationality.is_empty()).then(|| p.nationality.clone()),
            },
        ));
    }
    // Test mode's magic values hit whether or not a list is imported.
    let mut hits: Vec<Value> = subjects
        .iter()
        .filter_map(|(subject, who)| crate::sandbox::sanctions_hit(c.mode, subject, &who.name))
        .collect();
    let Some(list) = list else {
        if hits.is_empty() {
            return NewCheckResult {
                kind: CheckKind::Sanctions,
                outcome: CheckOutcome::Warn,
                reasons: vec!["sanctions_list_missing".into()],
                evidence: json!({ "message": "no sanctions list is imported: run kyb sanctions import" }),
            };
        }
        return sanctions_result(&[], &subjects, mark_cleared(hits, verdicts));
    };
    for (subject, who) in &subjects {
        for h in list.screener.screen(who, kyb_screening::DEFAULT_THRESHOLD) {
            let mut v = serde_json::to_value(&h).unwrap_or_default();
            v["subject"] = json!(subject);
            v["name"] = json!(who.name);
            hits.push(v);
        }
    }
    sanctions_result(&list.lists, &subjects, mark_cleared(hits, verdicts))
}

/// Marks each hit that two admins cleared as a false positive, for the entry as it still is;
/// one cleared for the entry as it was then says its entry changed since.
fn mark_cleared(mut hits: Vec<Value>, verdicts: &[HitVerdict]) -> Vec<Value> {
    for v in &mut hits {
        let Some((list, entry_id)) = hit_entry(v) else {
            continue;
        };
        let fingerprint = v["fingerprint"].as_str().unwrap_or_default().to_owned();
        let cleared = verdicts
            .iter()
            .find(|x| x.holds(Verdict::FalsePositive, &list, &entry_id, &fingerprint));
        if let Some(x) = cleared {
            v["cleared"] = json!({
                "verdict_id": x.id, "reason": x.reason, "by": x.operator_email,
                "confirmed_by": x.confirmed_by_email, "at": x.confirmed_at,
            });
        } else if verdicts.iter().any(|x| {
            x.is_effective()
                && x.verdict == Verdict::FalsePositive
                && x.list == list
                && x.entry_id == entry_id
        }) {
            // Cleared once, for the entry as it was then.
            v["entry_changed_since_verdict"] = json!(true);
        }
    }
    hits
}

/// The sanctions check's result from its hits (cleared ones marked).
fn sanctions_result(
    lists: &[SanctionsList],
    subjects: &[(String, Subject)],
    hits: Vec<Value>,
) -> NewCheckResult {
    let screened: Vec<&str> = subjects.iter().map(|(s, _)| s.as_str()).collect();
    let raised: Vec<&Value> = hits.iter().filter(|h| h.get("cleared").is_none()).collect();
    // Hits whose date of birth or country contradicts the entry's still go to a reviewer, as a
    // warning rather than a failure.
    let (outcome, reasons) = if raised.is_empty() {
        (CheckOutcome::Pass, vec![])
    } else if raised.iter().all(|h| h["likely_false_positive"] == true) {
        (CheckOutcome::Warn, vec!["sanctions_possible_hit".into()])
    } else {
        (CheckOutcome::Fail, vec!["sanctions_hit".into()])
    };
    NewCheckResult {
        kind: CheckKind::Sanctions,
        outcome,
        reasons,
        evidence: json!({
            "lists": lists.iter().map(|l| json!({
                "list": l.source, "list_id": l.id, "list_date": l.list_date,
            })).collect::<Vec<_>>(),
            "screened": screened,
            "hits": hits,
        }),
    }
}

/// Matches the business in the registry of its country; "not found" refers, never rejects.
pub fn registry_check(
    registries: &[Arc<dyn RegistryProvider>],
    facts: &CaseFacts,
) -> NewCheckResult {
    let c = &facts.customer;
    let profile = &c.facts.profile;
    let name = if profile.legal_name.trim().is_empty() {
        &c.business_name
    } else {
        &profile.legal_name
    };
    if let Some(magic) = crate::sandbox::registry_magic(c.mode, &profile.registration_number) {
        let (outcome, reason) = match magic {
            RegistryMagic::NotFound => (CheckOutcome::Warn, "registry_not_found"),
            RegistryMagic::NumberMismatch => (CheckOutcome::Warn, "registry_number_mismatch"),
        };
        return NewCheckResult {
            kind: CheckKind::Registry,
            outcome,
            reasons: vec![reason.to_owned()],
            evidence: json!({
                "registry": crate::sandbox::SANDBOX_LIST,
                "name": name,
                "registration_number": profile.registration_number,
                "sandbox": true,
            }),
        };
    }
    let Some(registry) = registries
        .iter()
        .find(|r| r.country() == c.registered_country)
    else {
        return NewCheckResult {
            kind: CheckKind::Registry,
            outcome: CheckOutcome::Warn,
            reasons: vec!["registry_unavailable".into()],
            evidence: json!({ "country": c.registered_country, "message": "no registry is configured for this country" }),
        };
    };
    let (outcome, reasons, evidence) = match registry.lookup(name, &profile.registration_number) {
        RegistryMatch::Found {
            registry_id,
            registered_name,
            score,
            number_matches,
        } => (
            if number_matches {
                CheckOutcome::Pass
            } else {
                CheckOutcome::Warn
            },
            if number_matches {
                vec![]
            } else {
                vec!["registry_number_mismatch".to_owned()]
            },
            json!({
                "registry": registry.name(),
                "name": name,
                "registration_number": profile.registration_number,
                "registry_id": registry_id,
                "registered_name": registered_name,
                "score": score,
            }),
        ),
        RegistryMatch::NotFound => (
            CheckOutcome::Warn,
            vec!["registry_not_found".to_owned()],
            json!({
                "registry": registry.name(),
                "name": name,
                "registration_number": profile.registration_number,
            }),
        ),
    };
    NewCheckResult {
        kind: CheckKind::Registry,
        outcome,
        reasons,
        evidence,
    }
}

/// Required kinds present, types as judged from content at upload, no bytes shared with another
/// customer's documents.
pub fn documents_check(state: &AppState, facts: &CaseFacts) -> NewCheckResult {
    let c = &facts.customer;
    let requirements = state.catalog.for_country(&c.registered_country);
    let due: Vec<String> = kyb_domain::kyb::currently_due(
        requirements,
        &c.facts.profile,
        &c.facts.people,
        facts.documents.iter().map(|d| d.kind.as_str()),
    )
    .into_iter()
    .filter(|d| d.starts_with("documents."))
    .collect();
    let accepted = &kyb_domain::requirements::ACCEPTED_DOCUMENT_TYPES;
    let odd: Vec<&str> = facts
        .documents
        .iter()
        .filter(|d| !accepted.iter().any(|(t, _)| *t == d.content_type))
        .map(|d| d.id.as_str())
        .collect();
    let mut reasons = Vec::new();
    let mut outcome = CheckOutcome::Pass;
    if !due.is_empty() || !odd.is_empty() {
        outcome = CheckOutcome::Fail;
        if !due.is_empty() {
            reasons.push("documents_missing".to_owned());
        }
        if !odd.is_empty() {
            reasons.push("document_type_not_allowed".to_owned());
        }
    }
    if !facts.duplicates.is_empty() {
        outcome = outcome.max(CheckOutcome::Warn);
        reasons.push("document_duplicate".to_owned());
    }
    let duplicates: Vec<Value> = facts
        .duplicates
        .iter()
        .map(|d| {
            json!({
                "document_id": d.document_id,
                "kind": d.kind,
                "sha256": d.sha256,
                "other_customer_id": d.other_customer,
                "other_platform": d.other_customer.is_none(),
            })
        })
        .collect();
    NewCheckResult {
        kind: CheckKind::Documents,
        outcome,
        reasons,
        evidence: json!({
            "documents": facts.documents.iter().map(|d| json!({
                "id": d.id, "kind": d.kind, "content_type": d.content_type, "size_bytes": d.size_bytes, "sha256": d.sha256,
            })).collect::<Vec<_>>(),
            "missing": due,
            "not_allowed": odd,
            "duplicates": duplicates,
        }),
    }
}
