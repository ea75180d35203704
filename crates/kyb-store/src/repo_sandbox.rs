//! Test-mode simulations (`POST /v2/business_customer/{id}/simulate`): each runs the real
//! flow's own steps (the customer opening the link, filling in and submitting the hosted flow,
//! a reviewer's decision) in the API's idempotent transaction, so the events, webhooks, audit
//! rows and check jobs are those of the real flow. Compiled once per database like `repo.rs`.

use kyb_domain::{CustomerId, VerificationStatus};

use super::repo::{finish_idempotent, Backend, Tx};
use super::repo_console::decide_in;
use super::repo_hosted::{
    add_document_in, save_profile_in, scoped_customer, start_session_in, submit_in,
    upsert_person_in,
};
use crate::model::*;
use crate::StoreError;

impl Backend {
    /// Runs `simulation` on a test-mode customer of `scope`. `events` gets the customer after
    /// the step, its status before, and whether a new link was issued; `respond` the customer
    /// after the step.
    #[allow(clippy::too_many_arguments)]
    pub async fn simulate(
        &self,
        scope: &Scope,
        customer_id: &CustomerId,
        simulation: Simulation<'_>,
        idem: &IdempotencyRequest,
        ctx: &AuditContext,
        events: impl FnOnce(&Customer, VerificationStatus, bool) -> Vec<NewEvent>,
        respond: impl FnOnce(&Customer) -> StoredResponse,
    ) -> Result<Idempotent<StoredResponse>, StoreError> {
        if scope.mode.is_live() {
            return Err(StoreError::NotFound);
        }
        self.idempotent(scope, idem, ctx.at, |mut tx| async move {
            let outcome = async {
                let after =
                    simulate_in(&mut tx, scope, customer_id, simulation, ctx, events).await?;
                finish_idempotent(&mut tx, scope, idem, respond(&after), ctx, Vec::new()).await
            }
            .await;
            (tx, outcome)
        })
        .await
    }
}

async fn simulate_in(
    tx: &mut Tx,
    scope: &Scope,
    customer_id: &CustomerId,
    simulation: Simulation<'_>,
    ctx: &AuditContext,
    events: impl FnOnce(&Customer, VerificationStatus, bool) -> Vec<NewEvent>,
) -> Result<Customer, StoreError> {
    let platform = scope.platform_id.as_str();
    let before = scoped_customer(tx, scope, customer_id, ctx.at, true).await?;
    let status = before.verification_status;
    match simulation {
        Simulation::OpenLink(session) => {
            // The newest link nobody has used or revoked: the one the customer would open.
            let token_hash: Option<String> = sqlx::query_scalar(
                "SELECT token_hash FROM kyb_links WHERE customer_id = $1 AND platform_id = $2 \
                 AND used_at IS NULL AND revoked_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 1",
            )
            .bind(customer_id.as_str())
            .bind(platform)
            .fetch_optional(&mut **tx)
            .await?;
            let unusable = || {
                StoreError::Conflict(
                    "this customer has no link that can be opened: issue a new one with POST /v2/business_customer/{id}/kyb_link"
                        .to_owned(),
                )
            };
            let token_hash = token_hash.ok_or_else(unusable)?;
            let opened =
                start_session_in(tx, &token_hash, &session, ctx, |c| events(c, status, false))
                    .await?;
            opened.map(|s| s.customer).map_err(|_| unusable())
        }
        Simulation::Submit {
            fill,
            documents,
            attested_by,
            missing,
            caps,
        } => {
            kyb_domain::transition(status, kyb_domain::Action::Submit)?;
            let fill = fill(&before);
            if let Some(profile) = &fill.profile {
                save_profile_in(tx, &before, profile, ctx).await?;
            }
            for person in &fill.people {
                upsert_person_in(tx, &before, person, &caps, ctx).await?;
            }
            for doc in &documents {
                add_document_in(tx, &before, doc, &caps, ctx).await?;
            }
            submit_in(tx, &before, attested_by, ctx, missing, |after, previous| {
                events(after, previous, false)
            })
            .await
        }
        Simulation::Decide(action) => {
            let new_link = matches!(action, DecisionAction::RequestInfo { .. });
            let decider = Decider::Simulation;
            decide_in(
                tx,
                &scope.platform_id,
                customer_id,
                decider,
                action,
                ctx,
                |c, previous, _| events(c, previous, new_link),
            )
            .await?;
            scoped_customer(tx, scope, customer_id, ctx.at, false).await
        }
    }
}
