//! The kyb domain: typed ids, value types that parse (never merely validate), the verification
//! status machine and the commands the outer layers run. Nothing here performs IO.
#![forbid(unsafe_code)]

pub mod branding;
pub mod clock;
pub mod customer;
pub mod id;
pub mod keys;
pub mod kyb;
pub mod requirements;
pub mod status;
pub mod values;

pub use clock::Clock;
pub use customer::{CreateBusinessCustomer, CreateBusinessCustomerInput, FieldError};
pub use id::{
    AttemptId, AuditId, CheckId, CheckJobId, CustomerId, DeliveryId, EventId, KeyId, LinkId,
    PlatformId, RequestId, SanctionsListId, VerdictId, WebhookEndpointId,
};
pub use keys::{ApiKeySecret, IdempotencyKey, Mode};
pub use status::{
    transition, Action, Progress, TransitionError, VerificationStatus, REJECTION_REASONS,
};
pub use values::{
    invisible_char, invisible_message, BusinessEmail, BusinessName, CountryCode, PhoneNumber,
    RegisteredAddress, ValueError,
};
