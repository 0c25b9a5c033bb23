//! Domain errors. `crate::http::response` is the one place that turns them into HTTP statuses;
//! each dialect words them (`crate::wording` holds the English sentences, a dialect the names of
//! the inputs in them).
//!
//! The core never names a field of the wire: an error about an input names it as an [`Input`],
//! the domain's own list of what a request can carry, and says what is wrong with it as a
//! [`Problem`]. A dialect maps both to its own field names and sentences. Errors that a dialect's
//! own parser finds (a serde path, a SuperOffice field) carry the wire name as [`Field::Wire`].

/// Everything a request can fail with.
#[derive(Debug)]
pub enum Error {
    /// 400: the request is malformed or breaks a rule; `field` names the part at fault.
    InvalidInput { code: &'static str, message: Message, field: Option<Field> },
    /// 401: no usable credentials. The message never says which part was wrong.
    Unauthorized(Refusal),
    /// 403: the agent is known but its role may not do this.
    Forbidden(String),
    /// 404: the thing named does not exist.
    NotFound { message: Message, field: Option<Field> },
    /// 405: the path exists with other methods.
    MethodNotAllowed { allow: Vec<&'static str> },
    /// 406: the caller accepts no representation we can produce.
    NotAcceptable,
    /// 409: the request clashes with the current state.
    Conflict { code: &'static str, message: Message },
    /// 413: the body is larger than we accept.
    PayloadTooLarge { limit: usize },
    /// 415: the body is in a format we do not read (the given media type).
    UnsupportedMediaType(String),
    /// 422: an idempotency key was reused for a different request.
    IdempotencyKeyReused,
    /// 429: too many failed attempts; retry after this many seconds.
    RateLimited { retry_after_secs: u64 },
    /// 503: the database could not be reached or is throttling; safe to retry.
    StorageUnavailable(String),
    /// 503: a write reached the database, whose answer did not come back before the deadline: it
    /// may still be applied. Only when the database stays unreachable for the whole budget; a
    /// retry with the same idempotency key gets the stored result if it was.
    OutcomeUnknown(String),
    /// 500: a fault of ours. The detail is logged, never shown.
    Internal(String),
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The part of a request at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// An input the domain knows; each dialect names it.
    Input(Input),
    /// A name on the wire, from a dialect's or the edge's own reading of the request (a serde
    /// path such as `attachments[0].size`, a SuperOffice field, a header).
    Wire(String),
}

impl From<Input> for Field {
    fn from(input: Input) -> Self {
        Field::Input(input)
    }
}

impl From<&str> for Field {
    fn from(name: &str) -> Self {
        Field::Wire(name.to_owned())
    }
}

impl From<String> for Field {
    fn from(name: String) -> Self {
        Field::Wire(name)
    }
}

impl From<&String> for Field {
    fn from(name: &String) -> Self {
        Field::Wire(name.clone())
    }
}

/// A wire name compares equal to its text (what tests and fuzz targets check).
impl PartialEq<str> for Field {
    fn eq(&self, other: &str) -> bool {
        matches!(self, Field::Wire(name) if name == other)
    }
}

impl PartialEq<&str> for Field {
    fn eq(&self, other: &&str) -> bool {
        self == *other
    }
}

/// What a request can carry, as the domain sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Input {
    /// A message's text.
    Text,
    /// A message's attachments, as a whole.
    Attachments,
    /// One part of the attachment at this index.
    Attachment(usize, AttachmentPart),
    /// A client by its internal id.
    ClientId,
    /// A client by the authorized external id the business knows it by.
    ExternalClientId,
    /// A client by an unauthorized external id.
    UnauthorizedClientId,
    /// A client's display name.
    DisplayName,
    /// A thread (a SuperOffice session).
    ThreadId,
    /// The size of a page.
    Limit,
    /// The message a page starts after.
    After,
    /// A part of the device a message is sent to.
    Device(DevicePart),
    /// An agent's login name.
    Login,
    Password,
    /// An application's name.
    ApplicationName,
    /// The key that makes a request idempotent.
    IdempotencyKey,
    /// The id a channel provider gave a message (deduplicates its retries).
    ProviderMessageId,
    /// When the gateway received a customer's message.
    ReceivedAt,
    /// A message, by its id.
    MessageId,
    /// A message's delivery status.
    DeliveryStatus,
    /// When a delivery status was reached.
    StatusAt,
    /// The code of a delivery failure.
    StatusErrorCode,
    /// The text of a delivery failure.
    StatusErrorMessage,
    /// A webhook subscription, by its id.
    WebhookId,
    /// Where a subscription's events are sent.
    WebhookUrl,
    /// The event types a subscription gets.
    WebhookEvents,
    /// The body format a subscription is sent.
    WebhookFormat,
    WebhookDescription,
    /// Which deliveries a listing shows, by their status.
    DispatchStatus,
    /// Where a page continues (an opaque cursor).
    Cursor,
    /// The start and the end of a window of time.
    Since,
    Until,
    /// A record of the table's stream, as a consumer got it.
    StreamRecord,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttachmentPart {
    Url,
    Name,
    MimeType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DevicePart {
    Channel,
    Address,
    AppMarker,
    /// The authorized external id of the device's client.
    ExternalClientId,
    /// The unauthorized external id of the device's client.
    UnauthorizedClientId,
}

/// What an error says: a dialect's own text, or a problem it words itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Text(String),
    Problem(Problem),
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::Text(text)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::Text(text.to_owned())
    }
}

impl From<Problem> for Message {
    fn from(problem: Problem) -> Self {
        Message::Problem(problem)
    }
}

/// What is wrong with an input (or which one is missing), in the domain's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Longer than allowed: it has `chars` characters, at most `max` are allowed.
    TooLong {
        chars: usize,
        max: usize,
    },
    /// Longer than `max` characters (said without the length given).
    LongerThan {
        max: usize,
    },
    /// Blank.
    Empty,
    ControlCharacters,
    /// Not an integer from 1 to `max`.
    IdOutOfRange {
        max: u64,
    },
    /// Not an integer from `min` to `max`.
    IntegerOutOfRange {
        min: u64,
        max: u64,
    },
    /// Not `min` to `max` characters (`no_spaces`: without spaces).
    CharacterCount {
        min: usize,
        max: usize,
        no_spaces: bool,
    },
    /// Not `min` to `max` printable ASCII characters.
    PrintableCount {
        min: usize,
        max: usize,
    },
    /// No recipient was named (the field is the first of the three ways to name one).
    NoRecipient,
    /// The text is empty and there is no attachment.
    EmptyWithoutAttachments,
    /// `given` items, at most `max` allowed.
    TooMany {
        given: usize,
        max: usize,
    },
    NotWebUrl,
    NotMediaType,
    /// A file with neither a name with an extension nor a media type.
    UnknownFileKind,
    Required,
    /// Missing; one of `allowed`.
    RequiredOneOf {
        allowed: Vec<&'static str>,
    },
    /// Not one of `allowed`.
    UnknownValue {
        given: String,
        allowed: Vec<&'static str>,
    },
    NotPhoneNumber,
    NotEmailAddress,
    /// Not 1 to `max` characters without spaces or control characters.
    NotToken {
        max: usize,
    },
    /// Nothing has this value (a client, a thread, an agent, by the field's kind).
    NoneWith {
        value: String,
    },
    /// A request with this key is still being processed.
    InProgress,
    /// Not a date-time with an offset (RFC 3339).
    NotTimestamp,
}

/// Why credentials were refused; the dialect words it (and may name the header to send).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A login and password that do not match (or a locked or disabled agent).
    BadCredentials,
    /// A token, ticket or Basic pair that is missing, unknown or expired.
    BadToken,
    /// The session cookie without the matching XSRF value.
    BadXsrf,
    /// A ticket without a registered application's token.
    BadAppToken,
    /// A web chat page's visitor token (or its connection) that is missing, unknown or expired.
    BadVisitorToken,
}

static IDEMPOTENCY_KEY: Field = Field::Input(Input::IdempotencyKey);

impl Error {
    /// A 400 naming the field at fault (a dialect's own name, or an [`Input`]).
    pub fn invalid(field: impl Into<Field>, message: impl Into<Message>) -> Self {
        Error::InvalidInput { code: "VALIDATION_FAILED", message: message.into(), field: Some(field.into()) }
    }

    pub fn not_found(field: Option<&str>, message: impl Into<String>) -> Self {
        Error::NotFound { message: Message::Text(message.into()), field: field.map(Field::from) }
    }

    /// A 404: nothing has the value given for `input`.
    pub fn none_with(input: Input, value: impl Into<String>) -> Self {
        Error::NotFound {
            message: Message::Problem(Problem::NoneWith { value: value.into() }),
            field: Some(Field::Input(input)),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<Message>) -> Self {
        Error::Conflict { code, message: message.into() }
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Error::Internal(detail.to_string())
    }

    /// The field at fault, if any.
    pub fn field(&self) -> Option<&Field> {
        match self {
            Error::InvalidInput { field, .. } | Error::NotFound { field, .. } => field.as_ref(),
            Error::IdempotencyKeyReused => Some(&IDEMPOTENCY_KEY),
            _ => None,
        }
    }

    /// What went wrong on our side (500, 503), for the log and the operator; never shown to callers.
    pub fn server_detail(&self) -> Option<&str> {
        match self {
            Error::Internal(detail) | Error::StorageUnavailable(detail) | Error::OutcomeUnknown(detail) => Some(detail),
            _ => None,
        }
    }
}
