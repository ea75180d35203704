//! What a platform gives about its customer before the customer does: business details and
//! people with the create or an update, and documents, each through the same writes as the
//! hosted flow's, in the API's idempotent transaction. Only before submission (`pending`); a
//! field the customer changed in the hosted flow is the customer's. Compiled once per
//! database like `repo.rs`.

use kyb_domain::{CustomerId, VerificationStatus};
use serde_json::{json, Map, Value};

use super::repo::{
    customer_with_email, finish_created, finish_idempotent, insert_audit, insert_events,
    insert_new_customer, AuditEntry, Backend, Target, Tx,
};
use super::repo_hosted::{
    add_document_in, customer_changed, save_profile_in, scoped_customer, upsert_person_in,
};
use crate::model::*;
use crate::StoreError;

impl Backend {
    /// A create with what the platform prefills, written with the customer: its events and
    /// response see the customer as prefilled.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_customer_prefilled(
        &self,
        scope: &Scope,
        new: NewCustomer,
        prefill: &Prefill,
        caps: &CustomerCaps,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        finish: impl FnOnce(&Customer) -> WriteResult,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        let email_key = new.fields.business_email.key();
        self.idempotent(scope, idem, ctx.at, |mut tx| async move {
            let outcome = async {
                let created =
                    insert_new_customer(&mut tx, scope, &new, email_key.as_str(), ctx).await?;
                write_prefill(&mut tx, &created, prefill, caps, ctx).await?;
                let customer = scoped_customer(&mut tx, scope, &created.id, ctx.at, false).await?;
                finish_created(&mut tx, scope, &customer, &new.link, idem, ctx, finish).await
            }
            .await;
            (tx, outcome)
        })
        .await
    }

    /// A platform's update of a customer not yet submitted. `finish` gets the customer after
    /// it and the creation fields that changed, with their earlier values.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_customer(
        &self,
        scope: &Scope,
        customer_id: &CustomerId,
        update: &CustomerUpdate,
        caps: &CustomerCaps,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        finish: impl FnOnce(&Customer, &Map<String, Value>) -> WriteResult,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        self.idempotent(scope, idem, ctx.at, |mut tx| async move {
            let outcome = async {
                let before = editable(&mut tx, scope, customer_id, ctx).await?;
                let previous = update_fields(&mut tx, scope, &before, update, ctx).await?;
                // Business details were checked against the country the customer has now.
                let country = update
                    .registered_country
                    .as_deref()
                    .unwrap_or(&before.registered_country);
                if !update.prefill.business_details.is_empty() && country != update.checked_country
                {
                    return Err(StoreError::Conflict(format!(
                        "the customer's registered_country is {country} now, not {} as when the \
                         business details were checked; send the update again",
                        update.checked_country
                    )));
                }
                // Each write above marks the customer as changed (`updated_at`).
                write_prefill(&mut tx, &before, &update.prefill, caps, ctx).await?;
                let after = scoped_customer(&mut tx, scope, customer_id, ctx.at, false).await?;
                let result = finish(&after, &previous);
                // Fields given as they already were change nothing: no event, no audit row.
                let changed = !previous.is_empty() || !update.prefill.is_empty();
                if changed {
                    insert_events(&mut tx, scope, &result.events, ctx.at).await?;
                }
                let mut details = previous
                    .keys()
                    .map(|k| (k.clone(), json!(field_of(&after, k))))
                    .collect::<Map<String, Value>>();
                if !update.prefill.business_details.is_empty() {
                    details.insert(
                        "business_details".into(),
                        json!(update
                            .prefill
                            .business_details
                            .iter()
                            .map(|(f, _)| *f)
                            .collect::<Vec<_>>()),
                    );
                }
                if let Some(people) = &update.prefill.people {
                    details.insert("people".into(), json!(people.len()));
                }
                let entries = if changed {
                    AuditEntry::single(
                        "business_customer.updated",
                        Target::new("business_customer", customer_id.as_str()),
                        Value::Object(details),
                    )
                } else {
                    Vec::new()
                };
                finish_idempotent(&mut tx, scope, idem, result.response, ctx, entries).await
            }
            .await;
            (tx, outcome)
        })
        .await
    }

    /// A document the platform gives (its bytes already stored under its key), with the hosted
    /// upload's limits.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_customer_document(
        &self,
        scope: &Scope,
        customer_id: &CustomerId,
        doc: &Document,
        caps: &CustomerCaps,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        respond: impl FnOnce(&Customer) -> StoredResponse,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        self.idempotent(scope, idem, ctx.at, |mut tx| async move {
            let outcome = async {
                let before = editable(&mut tx, scope, customer_id, ctx).await?;
                add_document_in(&mut tx, &before, doc, caps, ctx).await?;
                let after = scoped_customer(&mut tx, scope, customer_id, ctx.at, false).await?;
                finish_idempotent(&mut tx, scope, idem, respond(&after), ctx, Vec::new()).await
            }
            .await;
            (tx, outcome)
        })
        .await
    }
}

/// The customer of this scope, locked, if the platform may still change it: not yet submitted.
async fn editable(
    tx: &mut Tx,
    scope: &Scope,
    customer_id: &CustomerId,
    ctx: &AuditContext,
) -> Result<Customer, StoreError> {
    let c = scoped_customer(tx, scope, customer_id, ctx.at, true).await?;
    if c.verification_status != VerificationStatus::Pending {
        return Err(StoreError::Conflict(format!(
            "a customer can be changed by the platform only before it is submitted; this one is {}",
            c.verification_status
        )));
    }
    Ok(c)
}

/// Writes what the platform prefills: business details merged into the customer's, and the
/// people (replacing those the platform gave before). Refused, naming the item, where the
/// customer changed it in the hosted flow and the platform would change it again.
async fn write_prefill(
    tx: &mut Tx,
    c: &Customer,
    prefill: &Prefill,
    caps: &CustomerCaps,
    ctx: &AuditContext,
) -> Result<(), StoreError> {
    if prefill.is_empty() {
        return Ok(());
    }
    let theirs = customer_changed(tx, c).await?;
    let mut profile = c.facts.profile.clone();
    for (field, value) in &prefill.business_details {
        let item = format!("business_details.{field}");
        if profile.get(field) != value && theirs.contains(&item) {
            return Err(StoreError::Changed(item));
        }
        profile.set(field, value);
    }
    if !prefill.business_details.is_empty() {
        save_profile_in(tx, c, &profile, ctx).await?;
    }
    if let Some(people) = &prefill.people {
        if theirs.iter().any(|i| i == "people") {
            return Err(StoreError::Changed("people".into()));
        }
        let removed: Vec<String> =
            sqlx::query_scalar("DELETE FROM people WHERE customer_id = $1 RETURNING id")
                .bind(c.id.as_str())
                .fetch_all(&mut **tx)
                .await?;
        let entries = removed
            .iter()
            .map(|id| AuditEntry {
                action: "person.removed",
                target: Target::new("person", id),
                details: json!({ "customer_id": c.id, "replaced_by": "platform" }),
            })
            .collect::<Vec<_>>();
        if !entries.is_empty() {
            insert_audit(tx, &c.platform_id, Some(c.mode), ctx, entries).await?;
        }
        for person in people {
            upsert_person_in(tx, c, person, caps, ctx).await?;
        }
    }
    Ok(())
}

/// Writes the creation fields the update changes, merged into the locked customer; returns
/// those that changed with their earlier values.
async fn update_fields(
    tx: &mut Tx,
    scope: &Scope,
    before: &Customer,
    update: &CustomerUpdate,
    ctx: &AuditContext,
) -> Result<Map<String, Value>, StoreError> {
    let given = [
        ("business_name", update.business_name.as_deref()),
        (
            "business_email",
            update.business_email.as_ref().map(|(e, _)| e.as_str()),
        ),
        ("phone_number", update.phone_number.as_deref()),
        ("registered_address", update.registered_address.as_deref()),
        ("registered_country", update.registered_country.as_deref()),
    ];
    let mut previous = Map::new();
    for (name, value) in given {
        if value.is_some_and(|v| v != field_of(before, name)) {
            previous.insert(name.into(), json!(field_of(before, name)));
        }
    }
    if previous.is_empty() {
        return Ok(previous);
    }
    let merged = |i: usize| given[i].1.unwrap_or(field_of(before, given[i].0));
    let email_key = match &update.business_email {
        Some((_, key)) => key.clone(),
        None => before.business_email.to_lowercase(),
    };
    if previous.contains_key("business_email") {
        if let Some(other) = customer_with_email(&mut **tx, scope, &email_key).await? {
            if other != before.id {
                return Err(StoreError::CustomerExists(other));
            }
        }
    }
    let written = sqlx::query(
        "UPDATE business_customers SET business_name = $1, business_email = $2, email_key = $3, \
         phone_number = $4, registered_address = $5, registered_country = $6, updated_at = $7 \
         WHERE id = $8",
    )
    .bind(merged(0))
    .bind(merged(1))
    .bind(&email_key)
    .bind(merged(2))
    .bind(merged(3))
    .bind(merged(4))
    .bind(ctx.at)
    .bind(before.id.as_str())
    .execute(&mut **tx)
    .await;
    match written {
        Ok(_) => Ok(previous),
        // Another customer took the address since the look-up (PostgreSQL, concurrently).
        Err(e)
            if crate::unique_violation(
                &e,
                "business_customers_email_key",
                "business_customers.email_key",
            ) =>
        {
            let other = customer_with_email(&mut **tx, scope, &email_key)
                .await?
                .unwrap_or_else(|| before.id.clone());
            Err(StoreError::CustomerExists(other))
        }
        Err(e) => Err(e.into()),
    }
}

/// A creation field of the customer by name.
fn field_of<'c>(c: &'c Customer, name: &str) -> &'c str {
    match name {
        "business_name" => &c.business_name,
        "business_email" => &c.business_email,
        "phone_number" => &c.phone_number,
        "registered_address" => &c.registered_address,
        "registered_country" => &c.registered_country,
        _ => "",
    }
}
