//! The hosted flow's repository: links consumed into sessions, what the customer saves, and the
//! submission. Compiled once per database like `repo.rs`; every query is scoped to the session's
//! platform and customer.

use chrono::{DateTime, Duration, Utc};
use kyb_domain::kyb::BusinessProfile;
use kyb_domain::{
    transition, Action, CustomerId, LinkId, PlatformId, Progress, VerificationStatus,
};
use serde_json::json;

use super::repo::{
    close_access, insert_audit, insert_events, load_facts, AuditEntry, Backend, CustomerRow,
    Target, Tx, CURRENT_LINK_JOIN, CUSTOMER_COLUMNS,
};
use super::repo_branding::parse as branding_of;
use super::{lock_rows, Db};
use crate::model::*;
use crate::StoreError;

#[derive(sqlx::FromRow)]
struct LinkRow {
    id: String,
    customer_id: String,
    platform_id: String,
    platform_name: String,
    platform_branding: Option<String>,
    registered_country: String,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    platform_active: bool,
}

impl LinkRow {
    fn state(&self, now: DateTime<Utc>) -> LinkState {
        if !self.platform_active {
            LinkState::PlatformInactive
        } else if self.used_at.is_some() {
            LinkState::Used
        } else if self.revoked_at.is_some() {
            LinkState::Revoked
        } else if self.expires_at <= now {
            LinkState::Expired
        } else {
            LinkState::Valid
        }
    }
}

const LINK_SELECT: &str = "SELECT l.id, l.customer_id, p.id AS platform_id, p.name AS platform_name, \
     p.branding AS platform_branding, c.registered_country, \
     l.expires_at, l.used_at, l.revoked_at, p.active AS platform_active FROM kyb_links l JOIN platforms p ON p.id = l.platform_id \
     JOIN business_customers c ON c.id = l.customer_id WHERE l.token_hash = $1";

/// A customer by id within a platform (any mode), with its hosted-flow facts.
pub(super) async fn customer_by_id(
    conn: &mut <Db as sqlx::Database>::Connection,
    platform_id: &str,
    customer_id: &str,
    now: DateTime<Utc>,
    lock: bool,
) -> Result<Customer, StoreError> {
    let sql = format!(
        "SELECT {CUSTOMER_COLUMNS} FROM business_customers c {CURRENT_LINK_JOIN} \
         WHERE c.platform_id = $2 AND c.id = $3{}",
        if lock { lock_rows("c") } else { String::new() }
    );
    let row: CustomerRow = sqlx::query_as(&sql)
        .bind(now)
        .bind(platform_id)
        .bind(customer_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut customer = Customer::try_from(row)?;
    load_facts(conn, std::slice::from_mut(&mut customer)).await?;
    Ok(customer)
}

/// A customer of this platform and mode (`NotFound` for another mode's), with its hosted-flow
/// facts, locked when `lock`: for the API's writes.
pub(super) async fn scoped_customer(
    tx: &mut Tx,
    scope: &Scope,
    customer_id: &CustomerId,
    now: DateTime<Utc>,
    lock: bool,
) -> Result<Customer, StoreError> {
    let c = customer_by_id(
        tx,
        scope.platform_id.as_str(),
        customer_id.as_str(),
        now,
        lock,
    )
    .await?;
    if c.mode != scope.mode {
        return Err(StoreError::NotFound);
    }
    Ok(c)
}

impl Backend {
    pub async fn find_link(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<LinkView>, StoreError> {
        let row: Option<LinkRow> = sqlx::query_as(LINK_SELECT)
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(LinkView {
                state: r.state(now),
                link_id: LinkId::from_trusted(r.id),
                customer_id: CustomerId::from_trusted(r.customer_id),
                platform_id: PlatformId::from_trusted(r.platform_id),
                platform_name: r.platform_name,
                branding: branding_of(r.platform_branding)?,
                registered_country: r.registered_country,
                expires_at: r.expires_at,
            })
        })
        .transpose()
    }

    /// Consumes a valid link and starts a session for its customer, ending any older session of
    /// that customer. `Ok(Err(state))` when the link cannot be used (nothing is written then).
    pub async fn start_session(
        &self,
        token_hash: &str,
        new: &NewSession,
        ctx: &AuditContext,
        events: impl FnOnce(&Customer) -> Vec<NewEvent>,
    ) -> Result<Result<Session, LinkState>, StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let started = start_session_in(&mut tx, token_hash, new, ctx, events).await?;
        if started.is_ok() {
            tx.commit().await?;
        }
        Ok(started)
    }

    /// A session by the hash of its cookie, whatever its state.
    pub async fn session_trace(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> Result<Option<SessionTrace>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            link_id: String,
            platform_id: String,
            platform_name: String,
            branding: Option<String>,
            return_url: Option<String>,
            ended_at: Option<DateTime<Utc>>,
            expires_at: DateTime<Utc>,
            last_seen_at: DateTime<Utc>,
            status: String,
        }
        let row: Option<Row> = sqlx::query_as(
            "SELECT s.link_id, p.id AS platform_id, p.name AS platform_name, p.branding, l.return_url, \
             s.ended_at, s.expires_at, s.last_seen_at, \
             c.verification_status AS status FROM kyb_sessions s \
             JOIN platforms p ON p.id = s.platform_id JOIN kyb_links l ON l.id = s.link_id \
             JOIN business_customers c ON c.id = s.customer_id WHERE s.id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let status = VerificationStatus::parse(&r.status);
            Ok(SessionTrace {
                link_id: LinkId::from_trusted(r.link_id),
                platform_id: PlatformId::from_trusted(r.platform_id),
                platform_name: r.platform_name,
                branding: with_return_url(branding_of(r.branding)?, r.return_url),
                live: r.ended_at.is_none() && r.expires_at > now && r.last_seen_at > now - idle,
                submitted: r.ended_at.is_some()
                    && matches!(
                        status,
                        Some(
                            VerificationStatus::InReview
                                | VerificationStatus::Approved
                                | VerificationStatus::Rejected
                        )
                    ),
            })
        })
        .transpose()
    }

    /// The live session with this cookie hash (not ended, not past its absolute expiry, seen
    /// within `idle`), marked as seen now.
    pub async fn find_session(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> Result<Option<Session>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            customer_id: String,
            platform_id: String,
            link_id: String,
            csrf_token: String,
            expires_at: DateTime<Utc>,
            platform_name: String,
            branding: Option<String>,
            return_url: Option<String>,
        }
        let row: Option<Row> = sqlx::query_as(
            "SELECT s.customer_id, s.platform_id, s.link_id, s.csrf_token, s.expires_at, p.name AS platform_name, \
             p.branding, l.return_url \
             FROM kyb_sessions s JOIN platforms p ON p.id = s.platform_id JOIN kyb_links l ON l.id = s.link_id \
             WHERE s.id_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2 AND s.last_seen_at > $3 \
             AND p.active",
        )
        .bind(id_hash)
        .bind(now)
        .bind(now - idle)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let customer = {
            let mut conn = self.pool.acquire().await?;
            customer_by_id(&mut conn, &row.platform_id, &row.customer_id, now, false).await?
        };
        {
            let (mut tx, _guard) = self.begin_write().await?;
            sqlx::query("UPDATE kyb_sessions SET last_seen_at = $1 WHERE id_hash = $2")
                .bind(now)
                .bind(id_hash)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(Some(Session {
            id_hash: id_hash.to_owned(),
            csrf_token: row.csrf_token,
            link_id: LinkId::from_trusted(row.link_id),
            platform_name: row.platform_name,
            branding: with_return_url(branding_of(row.branding)?, row.return_url),
            customer,
            expires_at: row.expires_at,
        }))
    }

    /// The customer confirms that an item a reviewer asked for again is still correct as it
    /// is. Nothing is written when nothing is asked for, not this item, or it is confirmed
    /// already.
    pub async fn confirm_requested_item(
        &self,
        session: &Session,
        item: &str,
        ctx: &AuditContext,
    ) -> Result<(), StoreError> {
        let c = &session.customer;
        let (mut tx, _guard) = self.begin_write().await?;
        let now =
            customer_by_id(&mut tx, c.platform_id.as_str(), c.id.as_str(), ctx.at, true).await?;
        let Some(mut info) = now.review.info_request.clone() else {
            return Ok(());
        };
        if !info.items.iter().any(|i| i == item) {
            return Ok(());
        }
        if info.confirmed.iter().any(|i| i == item) {
            return Ok(());
        }
        info.confirmed.push(item.to_owned());
        sqlx::query(
            "UPDATE business_customers SET info_request = $1, updated_at = $2 WHERE id = $3",
        )
        .bind(serde_json::to_string(&info).expect("serialises"))
        .bind(ctx.at)
        .bind(c.id.as_str())
        .execute(&mut *tx)
        .await?;
        let entries = AuditEntry::single(
            "info_request.item_confirmed",
            Target::new("business_customer", c.id.as_str()),
            json!({ "item": item }),
        );
        insert_audit(&mut tx, &c.platform_id, Some(c.mode), ctx, entries).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn save_profile(
        &self,
        session: &Session,
        profile: &BusinessProfile,
        ctx: &AuditContext,
    ) -> Result<(), StoreError> {
        let c = &session.customer;
        let (mut tx, _guard) = self.begin_write().await?;
        let before =
            customer_by_id(&mut tx, c.platform_id.as_str(), c.id.as_str(), ctx.at, true).await?;
        let changed: Vec<String> = kyb_domain::requirements::BUSINESS_FIELDS
            .iter()
            .filter(|f| before.facts.profile.get(f) != profile.get(f))
            .map(|f| format!("business_details.{f}"))
            .collect();
        save_profile_in(&mut tx, c, profile, ctx).await?;
        mark_customer_changed(&mut tx, c, &changed).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_people(&self, session: &Session) -> Result<Vec<Person>, StoreError> {
        self.people_of(&session.customer).await
    }

    pub(super) async fn people_of(&self, customer: &Customer) -> Result<Vec<Person>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: String,
            full_name: String,
            date_of_birth: String,
            nationality: String,
            role: String,
            is_control_person: bool,
            ownership_bp: i32,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT pe.id, pe.full_name, pe.date_of_birth, pe.nationality, pe.role, pe.is_control_person, \
             pe.ownership_bp FROM people pe JOIN business_customers c ON c.id = pe.customer_id \
             WHERE pe.customer_id = $1 AND c.platform_id = $2 ORDER BY pe.created_at, pe.id",
        )
        .bind(customer.id.as_str())
        .bind(customer.platform_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Person {
                id: r.id,
                full_name: r.full_name,
                date_of_birth: r.date_of_birth,
                nationality: r.nationality,
                role: r.role,
                is_control_person: r.is_control_person,
                ownership_bp: u16::try_from(r.ownership_bp).unwrap_or(u16::MAX),
            })
            .collect())
    }

    /// Adds a person (`person.id` new) or replaces one of this customer's. Refused with
    /// `OwnershipExceeded` when the customer's total ownership would pass 100 %.
    pub async fn upsert_person(
        &self,
        session: &Session,
        person: &Person,
        caps: &CustomerCaps,
        ctx: &AuditContext,
    ) -> Result<(), StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        upsert_person_in(&mut tx, &session.customer, person, caps, ctx).await?;
        mark_customer_changed(&mut tx, &session.customer, &["people".to_owned()]).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_person(
        &self,
        session: &Session,
        person_id: &str,
        ctx: &AuditContext,
    ) -> Result<(), StoreError> {
        let c = &session.customer;
        let (mut tx, _guard) = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM people WHERE id = $1 AND customer_id = $2")
            .bind(person_id)
            .bind(c.id.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        touch(&mut tx, c, ctx.at).await?;
        mark_customer_changed(&mut tx, c, &["people".to_owned()]).await?;
        let entries = AuditEntry::single(
            "person.removed",
            Target::new("person", person_id),
            json!({ "customer_id": c.id }),
        );
        insert_audit(&mut tx, &c.platform_id, Some(c.mode), ctx, entries).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_documents(&self, session: &Session) -> Result<Vec<Document>, StoreError> {
        self.documents_of(&session.customer.platform_id, &session.customer.id)
            .await
    }

    /// A customer's documents (not deleted), oldest first.
    pub async fn documents_of(
        &self,
        platform_id: &PlatformId,
        customer_id: &CustomerId,
    ) -> Result<Vec<Document>, StoreError> {
        let rows: Vec<DocumentRow> = sqlx::query_as(
            "SELECT id, kind, original_name, content_type, size_bytes, sha256, storage_key, uploaded_at \
             FROM documents WHERE customer_id = $1 AND platform_id = $2 AND deleted_at IS NULL \
             ORDER BY uploaded_at, id",
        )
        .bind(customer_id.as_str())
        .bind(platform_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Document::from).collect())
    }

    pub async fn add_document(
        &self,
        session: &Session,
        doc: &Document,
        caps: &CustomerCaps,
        ctx: &AuditContext,
    ) -> Result<(), StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        add_document_in(&mut tx, &session.customer, doc, caps, ctx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks one of this customer's documents deleted and returns it (the caller removes the bytes).
    pub async fn delete_document(
        &self,
        session: &Session,
        doc_id: &str,
        ctx: &AuditContext,
    ) -> Result<Document, StoreError> {
        let c = &session.customer;
        let (mut tx, _guard) = self.begin_write().await?;
        let row: DocumentRow = sqlx::query_as(
            "SELECT id, kind, original_name, content_type, size_bytes, sha256, storage_key, uploaded_at \
             FROM documents WHERE id = $1 AND customer_id = $2 AND platform_id = $3 AND deleted_at IS NULL",
        )
        .bind(doc_id)
        .bind(c.id.as_str())
        .bind(c.platform_id.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        sqlx::query("UPDATE documents SET deleted_at = $1 WHERE id = $2")
            .bind(ctx.at)
            .bind(doc_id)
            .execute(&mut *tx)
            .await?;
        touch(&mut tx, c, ctx.at).await?;
        let details = json!({ "customer_id": c.id, "kind": row.kind, "sha256": row.sha256 });
        let entries =
            AuditEntry::single("document.deleted", Target::new("document", doc_id), details);
        insert_audit(&mut tx, &c.platform_id, Some(c.mode), ctx, entries).await?;
        tx.commit().await?;
        Ok(row.into())
    }

    /// Submits the case: `pending`/`more_info` → `in_review`, attested by `attested_by`; ends the
    /// customer's sessions. `events` gets the customer after the change and the status before.
    pub async fn submit(
        &self,
        session: &Session,
        attested_by: &str,
        ctx: &AuditContext,
        missing: impl FnOnce(&Customer) -> Vec<String>,
        events: impl FnOnce(&Customer, VerificationStatus) -> Vec<NewEvent>,
    ) -> Result<Customer, StoreError> {
        let (mut tx, _guard) = self.begin_write().await?;
        let done = submit_in(
            &mut tx,
            &session.customer,
            attested_by,
            ctx,
            missing,
            events,
        )
        .await?;
        tx.commit().await?;
        Ok(done)
    }
}

/// Consumes a valid link (by the hash of its token) and starts a session for its customer, in
/// the caller's transaction; `Ok(Err(state))` when the link cannot be used (nothing written).
pub(super) async fn start_session_in(
    tx: &mut Tx,
    token_hash: &str,
    new: &NewSession,
    ctx: &AuditContext,
    events: impl FnOnce(&Customer) -> Vec<NewEvent>,
) -> Result<Result<Session, LinkState>, StoreError> {
    let sql = format!("{LINK_SELECT}{}", lock_rows("l"));

    let link: LinkRow = sqlx::query_as(&sql)
        .bind(token_hash)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    let state = link.state(ctx.at);
    if state != LinkState::Valid {
        return Ok(Err(state));
    }
    let platform_id: String = sqlx::query_scalar("SELECT platform_id FROM kyb_links WHERE id = $1")
        .bind(&link.id)
        .fetch_one(&mut **tx)
        .await?;
    let before = customer_by_id(tx, &platform_id, &link.customer_id, ctx.at, true).await?;
    // A valid link belongs to a customer who may still submit; anything else is a stale link.
    if transition(before.verification_status, Action::Submit).is_err() {
        return Ok(Err(LinkState::Used));
    }
    sqlx::query(
        "UPDATE kyb_links SET used_at = $1, opened_at = COALESCE(opened_at, $1) WHERE id = $2",
    )
    .bind(ctx.at)
    .bind(&link.id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE kyb_sessions SET ended_at = $1 WHERE customer_id = $2 AND ended_at IS NULL",
    )
    .bind(ctx.at)
    .bind(&link.customer_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO kyb_sessions (id_hash, customer_id, platform_id, link_id, csrf_token, created_at, \
         last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
    )
    .bind(&new.id_hash)
    .bind(&link.customer_id)
    .bind(&platform_id)
    .bind(&link.id)
    .bind(&new.csrf_token)
    .bind(ctx.at)
    .bind(new.expires_at)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE business_customers SET progress = $1, updated_at = $2 WHERE id = $3 AND progress = $4",
    )
    .bind(Progress::InProgress.as_str())
    .bind(ctx.at)
    .bind(&link.customer_id)
    .bind(Progress::NotStarted.as_str())
    .execute(&mut **tx)
    .await?;
    let customer = customer_by_id(tx, &platform_id, &link.customer_id, ctx.at, false).await?;
    let scope = Scope {
        platform_id: customer.platform_id.clone(),
        mode: customer.mode,
    };
    insert_events(tx, &scope, &events(&customer), ctx.at).await?;
    let details = json!({ "customer_id": link.customer_id });
    let entries = AuditEntry::single(
        "kyb_link.opened",
        Target::new("kyb_link", &link.id),
        details,
    );
    insert_audit(tx, &customer.platform_id, Some(customer.mode), ctx, entries).await?;
    Ok(Ok(Session {
        id_hash: new.id_hash.clone(),
        csrf_token: new.csrf_token.clone(),
        link_id: LinkId::from_trusted(link.id),
        platform_name: link.platform_name,
        branding: branding_of(link.platform_branding)?,
        customer,
        expires_at: new.expires_at,
    }))
}

pub(super) async fn save_profile_in(
    tx: &mut Tx,
    c: &Customer,
    profile: &BusinessProfile,
    ctx: &AuditContext,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO business_profiles (customer_id, legal_name, trading_name, entity_type, registration_number, \
         date_of_incorporation, tax_id, website, business_description, operating_address, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (customer_id) DO UPDATE SET legal_name = excluded.legal_name, \
         trading_name = excluded.trading_name, entity_type = excluded.entity_type, \
         registration_number = excluded.registration_number, \
         date_of_incorporation = excluded.date_of_incorporation, tax_id = excluded.tax_id, \
         website = excluded.website, business_description = excluded.business_description, \
         operating_address = excluded.operating_address, updated_at = excluded.updated_at",
    )
    .bind(c.id.as_str())
    .bind(&profile.legal_name)
    .bind(&profile.trading_name)
    .bind(&profile.entity_type)
    .bind(&profile.registration_number)
    .bind(&profile.date_of_incorporation)
    .bind(&profile.tax_id)
    .bind(&profile.website)
    .bind(&profile.business_description)
    .bind(&profile.operating_address)
    .bind(ctx.at)
    .execute(&mut **tx)
    .await?;
    touch(tx, c, ctx.at).await?;
    let details = json!({
        "legal_name": profile.legal_name, "trading_name": profile.trading_name,
        "entity_type": profile.entity_type, "registration_number": profile.registration_number,
        "date_of_incorporation": profile.date_of_incorporation, "tax_id": profile.tax_id,
        "website": profile.website, "business_description": profile.business_description,
        "operating_address": profile.operating_address,
    });
    let entries = AuditEntry::single(
        "business_details.saved",
        Target::new("business_customer", c.id.as_str()),
        details,
    );
    insert_audit(tx, &c.platform_id, Some(c.mode), ctx, entries).await?;
    Ok(())
}

pub(super) async fn upsert_person_in(
    tx: &mut Tx,
    c: &Customer,
    person: &Person,
    caps: &CustomerCaps,
    ctx: &AuditContext,
) -> Result<(), StoreError> {
    let others: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(SUM(ownership_bp) AS BIGINT) FROM people WHERE customer_id = $1 AND id <> $2",
    )
    .bind(c.id.as_str())
    .bind(&person.id)
    .fetch_one(&mut **tx)
    .await?;
    let total = others.unwrap_or(0) + i64::from(person.ownership_bp);
    if total > 10_000 {
        return Err(StoreError::OwnershipExceeded { total_bp: total });
    }
    let exists: Option<String> =
        sqlx::query_scalar("SELECT id FROM people WHERE id = $1 AND customer_id = $2")
            .bind(&person.id)
            .bind(c.id.as_str())
            .fetch_optional(&mut **tx)
            .await?;
    if exists.is_none() {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM people WHERE customer_id = $1")
            .bind(c.id.as_str())
            .fetch_one(&mut **tx)
            .await?;
        if count >= caps.max_people as i64 {
            return Err(StoreError::Refused {
                code: StoreErrorCode::TooManyPeople.as_str(),
                message: format!("a customer may list at most {} people", caps.max_people),
            });
        }
    }
    let action = if exists.is_some() {
        sqlx::query(
            "UPDATE people SET full_name = $1, date_of_birth = $2, nationality = $3, role = $4, \
             is_control_person = $5, ownership_bp = $6, updated_at = $7 WHERE id = $8 AND customer_id = $9",
        )
        .bind(&person.full_name)
        .bind(&person.date_of_birth)
        .bind(&person.nationality)
        .bind(&person.role)
        .bind(person.is_control_person)
        .bind(i32::from(person.ownership_bp))
        .bind(ctx.at)
        .bind(&person.id)
        .bind(c.id.as_str())
        .execute(&mut **tx)
        .await?;
        "person.updated"
    } else {
        sqlx::query(
            "INSERT INTO people (id, customer_id, full_name, date_of_birth, nationality, role, is_control_person, \
             ownership_bp, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(&person.id)
        .bind(c.id.as_str())
        .bind(&person.full_name)
        .bind(&person.date_of_birth)
        .bind(&person.nationality)
        .bind(&person.role)
        .bind(person.is_control_person)
        .bind(i32::from(person.ownership_bp))
        .bind(ctx.at)
        .execute(&mut **tx)
        .await?;
        "person.added"
    };
    touch(tx, c, ctx.at).await?;
    let details = json!({
        "customer_id": c.id, "full_name": person.full_name, "date_of_birth": person.date_of_birth,
        "nationality": person.nationality, "role": person.role,
        "is_control_person": person.is_control_person, "ownership_bp": person.ownership_bp,
    });
    let entries = AuditEntry::single(action, Target::new("person", &person.id), details);
    insert_audit(tx, &c.platform_id, Some(c.mode), ctx, entries).await?;
    Ok(())
}

pub(super) async fn add_document_in(
    tx: &mut Tx,
    c: &Customer,
    doc: &Document,
    caps: &CustomerCaps,
    ctx: &AuditContext,
) -> Result<(), StoreError> {
    let (count, total): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) FROM documents \
         WHERE customer_id = $1 AND deleted_at IS NULL",
    )
    .bind(c.id.as_str())
    .fetch_one(&mut **tx)
    .await?;
    let as_u64 = |n: i64| u64::try_from(n).unwrap_or(0);
    if let Some(code) = caps.document_refusal(as_u64(count), as_u64(total), as_u64(doc.size_bytes))
    {
        return Err(StoreError::Refused {
            code: code.as_str(),
            message: format!(
                "a customer may keep at most {} documents of {} bytes in all",
                caps.max_documents, caps.max_document_bytes
            ),
        });
    }
    sqlx::query(
        "INSERT INTO documents (id, customer_id, platform_id, kind, original_name, content_type, size_bytes, \
         sha256, storage_key, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&doc.id)
    .bind(c.id.as_str())
    .bind(c.platform_id.as_str())
    .bind(&doc.kind)
    .bind(&doc.original_name)
    .bind(&doc.content_type)
    .bind(doc.size_bytes)
    .bind(&doc.sha256)
    .bind(&doc.storage_key)
    .bind(ctx.at)
    .execute(&mut **tx)
    .await?;
    touch(tx, c, ctx.at).await?;
    let details = json!({
        "customer_id": c.id, "kind": doc.kind, "original_name": doc.original_name,
        "content_type": doc.content_type, "size_bytes": doc.size_bytes, "sha256": doc.sha256,
    });
    let entries = AuditEntry::single(
        "document.uploaded",
        Target::new("document", &doc.id),
        details,
    );
    insert_audit(tx, &c.platform_id, Some(c.mode), ctx, entries).await?;
    Ok(())
}

pub(super) async fn submit_in(
    tx: &mut Tx,
    c: &Customer,
    attested_by: &str,
    ctx: &AuditContext,
    missing: impl FnOnce(&Customer) -> Vec<String>,
    events: impl FnOnce(&Customer, VerificationStatus) -> Vec<NewEvent>,
) -> Result<Customer, StoreError> {
    let before = customer_by_id(tx, c.platform_id.as_str(), c.id.as_str(), ctx.at, true).await?;
    let to = transition(before.verification_status, Action::Submit)?;
    // Checked again on the locked row: every hosted write touches it, so nothing can go
    // missing between this check and the commit.
    let due = missing(&before);
    if !due.is_empty() {
        return Err(StoreError::Incomplete(due));
    }
    sqlx::query(
        "UPDATE business_customers SET verification_status = $1, progress = $2, submitted_at = $3, \
         attested_by = $4, info_request = NULL, updated_at = $3 WHERE id = $5",
    )
    .bind(to.as_str())
    .bind(Progress::Submitted.as_str())
    .bind(ctx.at)
    .bind(attested_by)
    .bind(c.id.as_str())
    .execute(&mut **tx)
    .await?;
    // A submitted case has no way in: the hosted flow submits from the session of its only
    // valid link (used), and a simulated submission may come before any link was opened.
    close_access(tx, &c.id, ctx.at).await?;
    let after = customer_by_id(tx, c.platform_id.as_str(), c.id.as_str(), ctx.at, false).await?;
    let scope = Scope {
        platform_id: c.platform_id.clone(),
        mode: c.mode,
    };
    insert_events(
        tx,
        &scope,
        &events(&after, before.verification_status),
        ctx.at,
    )
    .await?;
    // The automated checks run after the commit, as a durable job.
    super::repo_checks::enqueue_job(tx, &after, JobKind::Submission, ctx.at).await?;
    let details = json!({
        "previous_status": before.verification_status, "status": to, "attested_by": attested_by,
    });
    let entries = AuditEntry::single(
        "business_customer.submitted",
        Target::new("business_customer", c.id.as_str()),
        details,
    );
    insert_audit(tx, &c.platform_id, Some(c.mode), ctx, entries).await?;
    Ok(after)
}

/// The platform's brand as the pages of one link show it: the link's own return URL, when the
/// platform gave one with it, in place of the platform's.
fn with_return_url(
    mut branding: kyb_domain::branding::Branding,
    return_url: Option<String>,
) -> kyb_domain::branding::Branding {
    if return_url.is_some() {
        branding.return_url = return_url;
    }
    branding
}

/// Records what the customer changed in the hosted flow (requirement keys), which a platform's
/// update may then not change.
async fn mark_customer_changed(
    tx: &mut Tx,
    c: &Customer,
    items: &[String],
) -> Result<(), StoreError> {
    if items.is_empty() {
        return Ok(());
    }
    let mut changed = customer_changed(tx, c).await?;
    let before = changed.len();
    for item in items {
        if !changed.contains(item) {
            changed.push(item.clone());
        }
    }
    if changed.len() == before {
        return Ok(());
    }
    sqlx::query("UPDATE business_customers SET customer_changed = $1 WHERE id = $2")
        .bind(serde_json::to_string(&changed).expect("strings serialise"))
        .bind(c.id.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// What the customer changed in the hosted flow (requirement keys).
pub(super) async fn customer_changed(tx: &mut Tx, c: &Customer) -> Result<Vec<String>, StoreError> {
    let raw: Option<String> =
        sqlx::query_scalar("SELECT customer_changed FROM business_customers WHERE id = $1")
            .bind(c.id.as_str())
            .fetch_one(&mut **tx)
            .await?;
    raw.map(|r| serde_json::from_str(&r))
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("customer_changed: {e}")))
        .map(Option::unwrap_or_default)
}

/// Marks the customer as changed now.
async fn touch(tx: &mut Tx, c: &Customer, at: DateTime<Utc>) -> Result<(), StoreError> {
    sqlx::query("UPDATE business_customers SET updated_at = $1 WHERE id = $2 AND platform_id = $3")
        .bind(at)
        .bind(c.id.as_str())
        .bind(c.platform_id.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct DocumentRow {
    id: String,
    kind: String,
    original_name: String,
    content_type: String,
    size_bytes: i64,
    sha256: String,
    storage_key: String,
    uploaded_at: DateTime<Utc>,
}

impl From<DocumentRow> for Document {
    fn from(r: DocumentRow) -> Self {
        Document {
            id: r.id,
            kind: r.kind,
            original_name: r.original_name,
            content_type: r.content_type,
            size_bytes: r.size_bytes,
            sha256: r.sha256,
            storage_key: r.storage_key,
            uploaded_at: r.uploaded_at,
        }
    }
}
