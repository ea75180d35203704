//! The rules of the OpenAPI document, derived from the rules the service applies: text patterns
//! from the domain's invisible-character rule, country codes from `celes`, and the responses and
//! headers every operation shares. CI runs Schemathesis against them (`.ci/schemathesis`).
//!
//! A schema here is exact where JSON Schema can say the rule (text, ids, enums), and a subset of
//! what the service accepts where it cannot (phone numbers, URLs): every value the document
//! allows is accepted, so a request that follows it gets no 400, but for the two refusals that
//! depend on data (an unknown cursor, a host that resolves to a private address; docs/api.md).

use std::sync::LazyLock;

use kyb_domain::{invisible_char, BusinessEmail, BusinessName, RegisteredAddress};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::request_body::RequestBody;
use utoipa::openapi::schema::{
    ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, KnownFormat, Ref, RefOr, Required, Response, ResponseBuilder,
};
use utoipa::{IntoParams, Modify};

use super::events::EVENT_TYPES;

// ----- text ------------------------------------------------------------------------------------

/// Refused in any text (`invisible_char` with line breaks allowed).
const INVISIBLE: u8 = 1;
/// Refused in one-line text (`invisible_char` without line breaks).
const INVISIBLE_INLINE: u8 = 2;
/// Trimmed from the edges of text (`char::is_whitespace`, as `str::trim`).
const WHITE_SPACE: u8 = 4;

/// What the text rules say of each character: worked out once (the document is built on every
/// request for it), from the very functions that apply the rules.
static CHARS: LazyLock<Vec<(char, u8)>> = LazyLock::new(|| {
    (0..=char::MAX as u32)
        .filter_map(char::from_u32)
        .map(|c| {
            let mut buf = [0u8; 4];
            let s = c.encode_utf8(&mut buf);
            let mut flags = 0;
            if invisible_char(s, true).is_some() {
                flags |= INVISIBLE;
            }
            if invisible_char(s, false).is_some() {
                flags |= INVISIBLE_INLINE;
            }
            if c.is_whitespace() {
                flags |= WHITE_SPACE;
            }
            (c, flags)
        })
        .collect()
});

/// Inclusive code point ranges of the characters whose flags `keep` takes.
fn ranges(keep: impl Fn(u8) -> bool) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for &(c, flags) in CHARS.iter() {
        if !keep(flags) {
            continue;
        }
        let cp = u32::from(c);
        match out.last_mut() {
            Some((_, end)) if *end + 1 == cp => *end = cp,
            _ => out.push((cp, cp)),
        }
    }
    out
}

/// A code point in a pattern: `\uXXXX`, or `\x{XXXXX}` beyond the BMP (ECMA-262 has no
/// spelling beyond the BMP that Python's `re` also reads; Schemathesis translates this one).
fn escape(cp: u32) -> String {
    if cp <= 0xFFFF {
        format!("\\u{cp:04X}")
    } else {
        format!("\\x{{{cp:X}}}")
    }
}

/// A character class of `ranges`, or of every other character when `negated`. (Surrogates are
/// not characters; a pattern cannot name them for the validators that read Unicode.)
fn class(ranges: &[(u32, u32)], negated: bool) -> String {
    let body: String = ranges
        .iter()
        .map(|&(a, b)| match b - a {
            0 => escape(a),
            1 => format!("{}{}", escape(a), escape(b)),
            _ => format!("{}-{}", escape(a), escape(b)),
        })
        .collect();
    format!("[{}{body}]", if negated { "^" } else { "" })
}

/// The pattern of free text as the service reads it: white space around it is trimmed (any
/// that the JSON guard lets through: it refuses control, format and bidi characters in every
/// string, line breaks and tabs aside), then 1 to `max` characters remain (0 too when
/// `allow_empty`), none of them invisible (line breaks and tabs allowed inside when
/// `allow_newlines`). Exact, so it carries the length bound: `maxLength` would count the
/// trimmed white space.
fn trimmed_text_pattern(max: usize, allow_newlines: bool, allow_empty: bool) -> String {
    let refused = if allow_newlines {
        INVISIBLE
    } else {
        INVISIBLE_INLINE
    };
    let edge = class(
        &ranges(|f| f & WHITE_SPACE != 0 && f & INVISIBLE == 0),
        false,
    );
    let inner = class(&ranges(|f| f & refused != 0), true);
    let end = class(&ranges(|f| f & (refused | WHITE_SPACE) != 0), true);
    let text = format!("{end}(?:{inner}{{0,{}}}{end})?", max - 2);
    let text = if allow_empty {
        format!("(?:{text})?")
    } else {
        text
    };
    format!("^{edge}*{text}{edge}*$")
}

static BUSINESS_NAME: LazyLock<String> =
    LazyLock::new(|| trimmed_text_pattern(BusinessName::MAX_CHARS, false, false));
static REGISTERED_ADDRESS: LazyLock<String> =
    LazyLock::new(|| trimmed_text_pattern(RegisteredAddress::MAX_CHARS, true, false));
static ENDPOINT_DESCRIPTION: LazyLock<String> =
    LazyLock::new(|| trimmed_text_pattern(super::webhook_endpoints::MAX_DESCRIPTION, true, true));

fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

fn nullable_string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .description(Some(description))
}

pub(crate) fn business_name() -> Schema {
    string(&format!(
        "Registered legal name: 1 to {} characters once the white space around it is trimmed, \
         none of them a control, format or text-direction character (zero-width space, soft \
         hyphen, bidi controls).",
        BusinessName::MAX_CHARS
    ))
    .pattern(Some(BUSINESS_NAME.as_str()))
    .into()
}

pub(crate) fn registered_address() -> Schema {
    string(&format!(
        "Registered address as free text: 1 to {} characters once the white space around it \
         is trimmed; line breaks and tabs are allowed, other control, format and \
         text-direction characters are not.",
        RegisteredAddress::MAX_CHARS
    ))
    .pattern(Some(REGISTERED_ADDRESS.as_str()))
    .into()
}

pub(crate) fn business_email() -> Schema {
    string(
        "Contact e-mail address of the business: an address like `name@example.com` (a dotted \
         domain, no display name, no IP literal), at most 254 characters. One customer per \
         address, platform and mode. In test mode the vendor documentation's placeholder \
         `[email protected]` is also accepted, so that its example body works verbatim.",
    )
    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
    .max_length(Some(BusinessEmail::MAX_CHARS))
    .into()
}

/// Assigned country calling codes (ITU-T E.164), by length. A national number that starts with
/// 2 to 7 or 9 is never read as a trunk or carrier prefix in any of them (Brazil's 9 is one, so
/// Brazil has a group of its own), so such numbers are never refused. Checked against the
/// parser by `documented_phone_numbers_are_accepted` (and, over every 3-digit start of every
/// length, when the table was made).
const CALLING_CODES: [&[u16]; 3] = [
    &[1, 7],
    &[
        20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54, 56,
        57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98,
    ],
    &[
        211, 212, 213, 216, 218, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232,
        233, 234, 235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250,
        251, 252, 253, 254, 255, 256, 257, 258, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269,
        290, 291, 297, 298, 299, 350, 351, 352, 353, 354, 355, 356, 357, 358, 359, 370, 371, 372,
        373, 374, 375, 376, 377, 378, 380, 381, 382, 383, 385, 386, 387, 389, 420, 421, 423, 500,
        501, 502, 503, 504, 505, 506, 507, 508, 509, 590, 591, 592, 593, 594, 595, 596, 597, 598,
        599, 670, 672, 673, 674, 675, 676, 677, 678, 679, 680, 681, 682, 683, 685, 686, 687, 688,
        689, 690, 691, 692, 800, 808, 850, 852, 853, 855, 856, 870, 878, 880, 881, 882, 883, 886,
        888, 960, 961, 962, 963, 964, 965, 966, 967, 968, 970, 971, 972, 973, 974, 975, 976, 977,
        979, 992, 993, 994, 995, 996, 998,
    ],
];
/// Brazil: its national numbers may not start with 9 in the pattern (see [`CALLING_CODES`]).
const BRAZIL: u16 = 55;

/// One alternative of the phone pattern: calling codes of one length, then a national number
/// whose first digit is in `first`, of 7 digits up to 15 in all. Separators (single spaces or
/// hyphens) only after a separator that ends the calling code: the parser reads the digits
/// before the first separator as the code, so `+1463-972…` would be calling code 1463.
fn phone_alternative(codes: &[u16], first: &str) -> String {
    let rest = 14 - codes[0].to_string().len();
    let codes: Vec<String> = codes.iter().map(u16::to_string).collect();
    format!(
        "(?:{})(?:[{first}][0-9]{{6,{rest}}}|[ -][{first}](?:[ -]?[0-9]){{6,{rest}}})",
        codes.join("|"),
    )
}

static PHONE_NUMBER: LazyLock<String> = LazyLock::new(|| {
    let mut alternatives: Vec<String> = CALLING_CODES
        .iter()
        .map(|codes| phone_alternative(codes, "2-79"))
        .collect();
    alternatives.push(phone_alternative(&[BRAZIL], "2-7"));
    format!("^\\+(?:{})$", alternatives.join("|"))
});

pub(crate) fn phone_number() -> Schema {
    string(
        "International form: `+`, the country calling code, then the national number; spaces, \
         `-`, `.` and parentheses are allowed and dropped. 8 to 15 digits in all (E.164). \
         Stored and returned as E.164 (`+15550123`). The pattern describes the common case \
         (any assigned calling code, a national number without trunk prefix, single spaces or \
         hyphens); the service also accepts the other separators and a trunk prefix it can \
         drop, such as `+44 (0)20 7946 0958`.",
    )
    .pattern(Some(PHONE_NUMBER.as_str()))
    .into()
}

static COUNTRIES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut codes: Vec<&'static str> = celes::Country::get_countries()
        .iter()
        .map(|c| c.alpha3)
        .collect();
    codes.sort_unstable();
    codes.dedup();
    codes
});

pub(crate) fn registered_country() -> Schema {
    string(
        "ISO 3166-1 alpha-3 country code in upper case (`USA`, `GBR`, `NGA`): one of the \
         assigned codes. For `US`, `usa` or a country name the error says which code was \
         probably meant.",
    )
    .enum_values(Some(COUNTRIES.iter().copied()))
    .into()
}

// ----- prefill ---------------------------------------------------------------------------------

/// One business detail: at most `max` characters once trimmed, empty allowed (it clears the
/// value), `null` or absent keeps it; line breaks only in the free-text fields. Rules that depend
/// on `registered_country` (formats, legal forms) or on today (dates) are the service's: the
/// 400 names the field.
fn business_detail(field: &'static str, description: &str) -> Schema {
    use kyb_domain::kyb::rules::max_chars;
    static LINE_200: LazyLock<String> = LazyLock::new(|| trimmed_text_pattern(200, false, true));
    static LINE_64: LazyLock<String> = LazyLock::new(|| trimmed_text_pattern(64, false, true));
    static TEXT_1000: LazyLock<String> = LazyLock::new(|| trimmed_text_pattern(1000, true, true));
    static TEXT_500: LazyLock<String> = LazyLock::new(|| trimmed_text_pattern(500, true, true));
    let newlines = matches!(field, "business_description" | "operating_address");
    let pattern = match (max_chars(field), newlines) {
        (200, false) => LINE_200.as_str(),
        (64, false) => LINE_64.as_str(),
        (1000, true) => TEXT_1000.as_str(),
        (500, true) => TEXT_500.as_str(),
        other => unreachable!("no pattern for a business detail of {other:?}"),
    };
    nullable_string(&format!(
        "{description} An empty string clears it; `null` or absent keeps it. None of it a \
         control, format or text-direction character{}.",
        if newlines {
            " (line breaks and tabs aside)"
        } else {
            ""
        }
    ))
    .pattern(Some(pattern))
    .into()
}

pub(crate) fn legal_name() -> Schema {
    business_detail(
        "legal_name",
        "The registered legal name, at most 200 characters.",
    )
}
pub(crate) fn trading_name() -> Schema {
    business_detail(
        "trading_name",
        "The name it trades under, at most 200 characters.",
    )
}
pub(crate) fn entity_type() -> Schema {
    business_detail(
        "entity_type",
        "One of the legal forms of `registered_country` (for the USA: `llc`, `c_corporation`, \
         `s_corporation`, `partnership`, `sole_proprietorship`, `non_profit`).",
    )
}
pub(crate) fn registration_number() -> Schema {
    business_detail(
        "registration_number",
        "In the format of `registered_country` where it has one (spaces and case are tidied), \
         at most 64 characters.",
    )
}
pub(crate) fn tax_id() -> Schema {
    business_detail(
        "tax_id",
        "In the format of `registered_country` where it has one (for the USA an EIN, \
         `12-3456789`; the dash is added to nine digits), at most 64 characters.",
    )
}
pub(crate) fn website() -> Schema {
    business_detail(
        "website",
        "An http or https address with a dotted host (https is added when no scheme is given), \
         at most 200 characters.",
    )
}
pub(crate) fn business_description() -> Schema {
    business_detail(
        "business_description",
        "What the business does, at most 1000 characters.",
    )
}
pub(crate) fn operating_address() -> Schema {
    business_detail(
        "operating_address",
        "Where it operates from, at most 500 characters.",
    )
}
pub(crate) fn date_of_incorporation() -> Schema {
    nullable_string(
        "`YYYY-MM-DD`, a real date from 1800-01-01 to today; an empty string clears it, `null` \
         or absent keeps it.",
    )
    .pattern(Some("^(?:[0-9]{4}-[0-9]{2}-[0-9]{2})?$"))
    .into()
}

static PERSON_NAME: LazyLock<String> =
    LazyLock::new(|| trimmed_text_pattern(kyb_domain::kyb::rules::MAX_PERSON_NAME, false, false));

pub(crate) fn person_name() -> Schema {
    string(
        "1 to 200 characters once the white space around it is trimmed, one line, none of them \
         a control, format or text-direction character.",
    )
    .pattern(Some(PERSON_NAME.as_str()))
    .into()
}

pub(crate) fn date_of_birth() -> Schema {
    string("`YYYY-MM-DD`: aged 16 to 120 today.")
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .into()
}

pub(crate) fn nationality() -> Schema {
    string("ISO 3166-1 alpha-3 country code in upper case, one of the assigned codes.")
        .enum_values(Some(COUNTRIES.iter().copied()))
        .into()
}

static SIMULATE_MESSAGE: LazyLock<String> =
    LazyLock::new(|| trimmed_text_pattern(2000, true, false));

/// The message of a simulated request for more information.
pub(crate) fn simulate_message() -> Schema {
    nullable_string(
        "The message the customer sees: 1 to 2000 characters once the white space around it is \
         trimmed (line breaks and tabs allowed); absent or `null`: \
         `Sandbox: please review your details.`",
    )
    .pattern(Some(SIMULATE_MESSAGE.as_str()))
    .into()
}

/// A link's `return_url`: the webhook URL rule, `null` or absent for the platform's.
pub(crate) fn return_url() -> Schema {
    nullable_string(&format!(
        "Where the customer is sent after submitting, for this link; `null` or absent: the \
         platform's `return_url`. {WEBHOOK_URL_RULE}"
    ))
    .pattern(Some(WEBHOOK_URL))
    .max_length(Some(WEBHOOK_URL_MAX))
    .into()
}

// ----- webhook endpoints -----------------------------------------------------------------------

/// An `https` URL whose host is a name (the service also takes public IP addresses), with any
/// path and query, no fragment. A host label may hold what URL syntax lets through besides
/// letters, digits and hyphens (`*`, `!`, `_` …: the service accepts them today), and the last
/// label starts with a letter, so that the host is never read as an IPv4 address. A name may
/// still be refused because it is `localhost` or resolves to a private address: the pattern
/// cannot know, and the 400 says so.
const WEBHOOK_URL: &str = "^https://(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?(?:/[!\"$-~]*)?$";
const WEBHOOK_URL_MAX: usize = 2048;
const WEBHOOK_URL_RULE: &str = "`https` URL of a public host, without user name, password or \
     #fragment, at most 2048 characters. Private, loopback, link-local, metadata and other \
     special addresses are refused, also when the name resolves to one (checked again at \
     every delivery). The pattern describes a host name with any path and query; public IP \
     addresses are accepted too.";

pub(crate) fn webhook_url() -> Schema {
    string(WEBHOOK_URL_RULE)
        .pattern(Some(WEBHOOK_URL))
        .max_length(Some(WEBHOOK_URL_MAX))
        .into()
}

pub(crate) fn webhook_url_update() -> Schema {
    nullable_string(&format!(
        "A new URL; `null` or absent keeps it. {WEBHOOK_URL_RULE}"
    ))
    .pattern(Some(WEBHOOK_URL))
    .max_length(Some(WEBHOOK_URL_MAX))
    .into()
}

pub(crate) fn endpoint_description() -> Schema {
    nullable_string(
        "At most 500 characters once the white space around it is trimmed; line breaks and \
         tabs are allowed, other control, format and text-direction characters are not.",
    )
    .pattern(Some(ENDPOINT_DESCRIPTION.as_str()))
    .into()
}

pub(crate) fn endpoint_description_update() -> Schema {
    nullable_string(
        "A new description: at most 500 characters once the white space around it is trimmed \
         (line breaks and tabs allowed); an empty string clears it, `null` or absent keeps it.",
    )
    .pattern(Some(ENDPOINT_DESCRIPTION.as_str()))
    .into()
}

/// An event type, one of those kyb emits.
pub(crate) fn event_type() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(EVENT_TYPES))
}

/// `enabled_events`: `null` (the default, or no change), `["*"]` for every type, or a list of
/// types. Repeats are accepted and dropped, so there is no `uniqueItems`.
fn enabled_events(description: &str) -> Schema {
    let all = ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["*"])),
        )
        .min_items(Some(1));
    let some = ArrayBuilder::new().items(event_type()).min_items(Some(1));
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .item(all)
        .item(some)
        .description(Some(description))
        .into()
}

pub(crate) fn enabled_events_create() -> Schema {
    enabled_events(
        "Event types to send: `[\"*\"]` (the default, also when `null` or absent) for all, or \
         a list of types. `*` goes alone.",
    )
}

pub(crate) fn enabled_events_update() -> Schema {
    enabled_events(
        "New event types: `[\"*\"]` for all, or a list of types; `null` or absent keeps them.",
    )
}

// ----- headers ---------------------------------------------------------------------------------

/// The `idempotency-key` header of an idempotent write (the rule of `IdempotencyKey::parse`).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // Only documents the header; `extract::Idempotency` reads it.
pub(crate) struct IdempotencyKeyHeader {
    /// Required. 1 to 255 visible ASCII characters (no spaces), unique per new request; kept
    /// 24 h. A retry with the same key and request replays the first response with
    /// `idempotent-replayed: true`; the same key with another request is a 422.
    #[param(
        rename = "idempotency-key",
        min_length = 1,
        max_length = 255,
        pattern = "^[!-~]+$"
    )]
    idempotency_key: String,
}

/// The `idempotency-key` header where it is optional (`DELETE`).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // Only documents the header; `extract::OptionalIdempotency` reads it.
pub(crate) struct OptionalIdempotencyKeyHeader {
    /// Optional here: 1 to 255 visible ASCII characters (no spaces). With one, a retry replays
    /// the first response; without, the request is simply not replayable.
    #[param(
        rename = "idempotency-key",
        value_type = String,
        required = false,
        min_length = 1,
        max_length = 255,
        pattern = "^[!-~]+$"
    )]
    idempotency_key: Option<String>,
}

// ----- responses every operation shares --------------------------------------------------------

fn error(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorBody")))
            .build(),
    )
}

fn retry_after(description: &str) -> utoipa::openapi::Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0)),
        )
        .description(Some(description))
        .build()
}

fn add(op: &mut Operation, status: &str, response: impl FnOnce() -> Response) {
    op.responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| RefOr::T(response()));
}

/// A body that may be left out is documented as an optional body; `null` is not a body the
/// service takes (it wants a JSON object, or nothing).
fn drop_null_body(body: &mut RequestBody) {
    let is_null = |s: &RefOr<Schema>| matches!(s, RefOr::T(Schema::Object(o)) if o.schema_type == Type::Null.into());
    for content in body.content.values_mut() {
        let Some(RefOr::T(Schema::OneOf(one_of))) = &content.schema else {
            continue;
        };
        let rest: Vec<&RefOr<Schema>> = one_of.items.iter().filter(|s| !is_null(s)).collect();
        if let [only] = rest[..] {
            if rest.len() < one_of.items.len() {
                content.schema = Some(only.clone());
                body.required = Some(Required::False);
            }
        }
    }
}

/// Adds what every `/v2` operation can answer (401 and 403 with a key, 429, 431, 500, 503), what every
/// JSON body can bring (413, 415) and every idempotent write (409 in use, 422 reused), and the
/// `x-request-id` header of every response. Statuses an operation documents itself are kept.
pub struct StandardResponses;

impl Modify for StandardResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                standard_responses(op);
            }
        }
    }
}

fn standard_responses(op: &mut Operation) {
    let idempotent = op
        .parameters
        .iter()
        .flatten()
        .any(|p| p.name == "idempotency-key" && matches!(p.parameter_in, ParameterIn::Header));
    if let Some(body) = &mut op.request_body {
        drop_null_body(body);
        add(op, "413", || {
            error("`body_too_large`: the body is larger than `max_body_bytes` (64 KiB by default)")
                .build()
        });
        add(op, "415", || {
            error("`unsupported_media_type`: a body that is not `content-type: application/json`")
                .build()
        });
    }
    if op.security.is_some() {
        add(op, "401", || {
            error("`api_key_missing` or `api_key_invalid`: no API key, or not one of ours").build()
        });
        add(op, "403", || {
            error("`api_key_revoked` or `platform_inactive`: the key is revoked, or its platform deactivated").build()
        });
    }
    if idempotent {
        add(op, "409", || {
            error("`idempotency_key_in_use`: a request with this idempotency-key is still running; retry after `Retry-After`").build()
        });
        add(op, "422", || {
            error("`idempotency_key_reused`: this idempotency-key was used with another request (method, path or body)").build()
        });
        if let Some(RefOr::T(conflict)) = op.responses.responses.get_mut("409") {
            conflict
                .headers
                .entry("Retry-After".into())
                .or_insert_with(|| {
                    retry_after("With `idempotency_key_in_use`: seconds to wait before retrying")
                });
        }
    }
    add(op, "431", || {
        error("`headers_too_large`: the request's headers take more than 16 KiB").build()
    });
    add(op, "429", || {
        error("`rate_limit_error`: too many requests with this API key; retry after `Retry-After`")
            .header(
                "Retry-After",
                retry_after("Seconds to wait before the next request"),
            )
            .build()
    });
    add(op, "503", || {
        error("`service_unavailable`: the database cannot be used right now (unreachable, busy, out of space); retry after `Retry-After`, writes with the same idempotency-key")
            .header(
                "Retry-After",
                retry_after("Seconds to wait before retrying"),
            )
            .build()
    });
    add(op, "500", || {
        error("`internal_error`: something failed on our side (logged with the request id); a write may be retried with the same idempotency-key").build()
    });
    for response in op.responses.responses.values_mut() {
        if let RefOr::T(response) = response {
            response
                .headers
                .entry("x-request-id".into())
                .or_insert_with(|| {
                    HeaderBuilder::new()
                        .schema(
                            ObjectBuilder::new()
                                .schema_type(Type::String)
                                .pattern(Some("^req_[A-Za-z0-9]{1,64}$")),
                        )
                        .description(Some(
                            "The request's id, also in error bodies and in the service's logs",
                        ))
                        .build()
                });
        }
    }
}

/// One line of text of at most 500 characters once trimmed, or empty (which clears the value).
static BRAND_TEXT: LazyLock<String> = LazyLock::new(|| trimmed_text_pattern(500, false, true));

fn brand_value(description: &str) -> Schema {
    nullable_string(&format!(
        "{description} An empty string clears it; `null` or absent keeps it. One line, none of \
         it a control, format or text-direction character."
    ))
    .pattern(Some(BRAND_TEXT.as_str()))
    .into()
}

pub(crate) fn brand_display_name() -> Schema {
    brand_value("The name customers see (else the platform's name), at most 100 characters.")
}

pub(crate) fn brand_accent_color() -> Schema {
    brand_value(
        "`#rrggbb`, like `#1f3a5f`: white text on it must have a contrast of 4.5:1 at least \
         (WCAG AA).",
    )
}

pub(crate) fn brand_email() -> Schema {
    brand_value("An e-mail address customers can write to for help.")
}

pub(crate) fn brand_url() -> Schema {
    brand_value("An `https://` address with a host, no user name or password.")
}

pub(crate) fn brand_language() -> Schema {
    brand_value(&format!(
        "The pages' language when the customer chose none and their browser asks for none kyb \
         speaks: one of {}.",
        kyb_domain::branding::LANGUAGES.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kyb_domain::PhoneNumber;

    #[test]
    fn text_classes_name_the_refused_characters() {
        let refused = ranges(|f| f & INVISIBLE_INLINE != 0);
        let has = |cp: u32| refused.iter().any(|&(a, b)| (a..=b).contains(&cp));
        for cp in [
            0x0, 0x9, 0xA, 0x7F, 0x85, 0xAD, 0x200B, 0x202E, 0x2066, 0xFEFF, 0xE0001,
        ] {
            assert!(has(cp), "U+{cp:04X} refused");
        }
        for c in ['a', ' ', '\u{a0}', 'é', '€', '😀'] {
            assert!(!has(u32::from(c)), "{c:?} allowed");
        }
        assert_eq!(
            class(
                &[
                    (0x9, 0xA),
                    (0x20, 0x20),
                    (0x2000, 0x200A),
                    (0xE0001, 0xE0001)
                ],
                true
            ),
            "[^\\u0009\\u000A\\u0020\\u2000-\\u200A\\x{E0001}]"
        );
        let p = trimmed_text_pattern(200, false, false);
        assert!(
            p.starts_with("^[\\u0009\\u000A\\u000D\\u0020\\u00A0"),
            "{p}"
        );
        assert!(p.contains("]{0,198}[^") && p.ends_with("]*$"), "{p}");
        assert!(trimmed_text_pattern(500, true, true).contains(")?)?["));
    }

    /// Every number the phone pattern describes is accepted. The pattern is built from the same
    /// table; this walks each calling code at the shortest and longest national number, with
    /// each first digit allowed, plain and with separators after the calling code.
    #[test]
    fn documented_phone_numbers_are_accepted() {
        let groups = CALLING_CODES
            .iter()
            .map(|codes| (*codes, "2345679"))
            .chain([(&[BRAZIL][..], "234567")]);
        for (codes, firsts) in groups {
            for code in codes {
                let longest = 15 - code.to_string().len();
                for first in firsts.chars() {
                    for len in [7, longest] {
                        for filler in ["0", "9", "1234567890"] {
                            let national: String = std::iter::once(first)
                                .chain(filler.chars().cycle())
                                .take(len)
                                .collect();
                            let plain = format!("+{code}{national}");
                            let stored = PhoneNumber::parse(&plain)
                                .unwrap_or_else(|e| panic!("{plain}: {e}"));
                            let (a, b) = national.split_at(3);
                            for spaced in [
                                format!("+{code} {a} {b}"),
                                format!("+{code}-{a}-{b}"),
                                format!("+{code} {a}-{b}"),
                            ] {
                                assert_eq!(
                                    PhoneNumber::parse(&spaced)
                                        .as_ref()
                                        .map(PhoneNumber::as_str),
                                    Ok(stored.as_str()),
                                    "{spaced}"
                                );
                            }
                        }
                    }
                }
            }
        }
        assert!(PHONE_NUMBER
            .starts_with("^\\+(?:(?:1|7)(?:[2-79][0-9]{6,13}|[ -][2-79](?:[ -]?[0-9]){6,13})|"));
    }

    #[test]
    fn every_assigned_country_is_listed() {
        assert_eq!(COUNTRIES.len(), celes::Country::get_countries().len());
        for code in ["USA", "GBR", "NGA"] {
            assert!(COUNTRIES.contains(&code));
        }
    }
}
