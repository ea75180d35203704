//! The verification lifecycle. `transition` is the only place that decides which status follows
//! which; every write of a status goes through it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Exactly the five values of the vendor's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    Pending,
    InReview,
    MoreInfo,
    Approved,
    Rejected,
}

impl VerificationStatus {
    pub const ALL: [VerificationStatus; 5] = [
        Self::Pending,
        Self::InReview,
        Self::MoreInfo,
        Self::Approved,
        Self::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InReview => "in_review",
            Self::MoreInfo => "more_info",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Approved and rejected are final: nothing moves a case out of them.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Approved | Self::Rejected)
    }
}

impl fmt::Display for VerificationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reason codes a reviewer can reject with; the platform sees the code, never the note.
pub const REJECTION_REASONS: [(&str, &str); 6] = [
    ("sanctions_match", "Confirmed sanctions match"),
    ("documents_invalid", "Documents invalid or forged"),
    ("registry_mismatch", "Does not match the company registry"),
    ("prohibited_business", "Prohibited or high-risk business"),
    ("fraud_suspected", "Fraud suspected"),
    ("other", "Other (see the audit trail)"),
];

/// What can happen to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The customer submits the hosted flow (first time, or after `more_info`).
    Submit,
    Approve,
    Reject,
    RequestInfo,
    /// The platform issues a fresh link; the status does not change, but it must not be final.
    IssueLink,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a customer whose verification_status is `{from}` cannot be {action}")]
pub struct TransitionError {
    pub from: VerificationStatus,
    pub action: &'static str,
}

/// The status after `action`, or why the action is not allowed now.
pub fn transition(
    from: VerificationStatus,
    action: Action,
) -> Result<VerificationStatus, TransitionError> {
    use Action as A;
    use VerificationStatus as S;
    let to = match (from, action) {
        (S::Pending | S::MoreInfo, A::Submit) => S::InReview,
        (S::InReview, A::Approve) => S::Approved,
        (S::InReview, A::Reject) => S::Rejected,
        (S::InReview, A::RequestInfo) => S::MoreInfo,
        (S::Pending | S::MoreInfo, A::IssueLink) => from,
        _ => {
            let action = match action {
                A::Submit => "submitted",
                A::Approve => "approved",
                A::Reject => "rejected",
                A::RequestInfo => "asked for more information",
                A::IssueLink => "sent a new link",
            };
            return Err(TransitionError { from, action });
        }
    };
    Ok(to)
}

/// Finer progress through the hosted flow while a case is `pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    NotStarted,
    InProgress,
    Submitted,
}

impl Progress {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotStarted => "not_started",
            Self::InProgress => "in_progress",
            Self::Submitted => "submitted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::NotStarted, Self::InProgress, Self::Submitted]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action as A;
    use VerificationStatus as S;

    #[test]
    fn transition_table() {
        let actions = [
            A::Submit,
            A::Approve,
            A::Reject,
            A::RequestInfo,
            A::IssueLink,
        ];
        // (from, action) -> Some(to) for the allowed moves; everything else is refused.
        let allowed = [
            (S::Pending, A::Submit, S::InReview),
            (S::Pending, A::IssueLink, S::Pending),
            (S::InReview, A::Approve, S::Approved),
            (S::InReview, A::Reject, S::Rejected),
            (S::InReview, A::RequestInfo, S::MoreInfo),
            (S::MoreInfo, A::Submit, S::InReview),
            (S::MoreInfo, A::IssueLink, S::MoreInfo),
        ];
        for from in S::ALL {
            for action in actions {
                let expected = allowed
                    .iter()
                    .find(|(f, a, _)| *f == from && *a == action)
                    .map(|(_, _, to)| *to);
                assert_eq!(
                    transition(from, action).ok(),
                    expected,
                    "{from} + {action:?}"
                );
            }
        }
    }

    #[test]
    fn final_states_accept_nothing() {
        for from in [S::Approved, S::Rejected] {
            assert!(from.is_final());
            let err = transition(from, A::IssueLink).unwrap_err();
            assert!(err.to_string().contains(from.as_str()));
        }
    }

    #[test]
    fn names_roundtrip() {
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
        }
        assert_eq!(S::parse("done"), None);
    }
}
