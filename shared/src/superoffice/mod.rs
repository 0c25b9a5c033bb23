//! The SuperOffice dialect (seed 002): `ChatSession` and `ChatMessage` in PascalCase, bodies in
//! seven content types, answers in JSON or XML by `Accept`, dates in `SO-TimeZone`, error messages
//! in the caller's language, and Basic, SOTicket, Bearer or cookie credentials.
//! `docs/superoffice.md` is the contract.

pub mod body;
pub mod dates;
pub mod enums;
mod errors;
pub mod language;
pub mod wire;
pub mod xml;

use serde::Serialize;

use crate::core::model::Message;
use crate::core::threads::ThreadSummary;
use crate::http::{self, ApiRequest, Dialect, Reply, Scheme};
use crate::{Error, Result};
use dates::Zone;
use language::Chosen;
use wire::{ChatMessage, ChatSession};

/// Answer formats, in the order that breaks ties between equally weighted `Accept` ranges; the
/// patch types are JSON bodies, as in SuperOffice.
pub const ANSWER_TYPES: &[&str] = &[
    "application/json",
    "text/json",
    "application/xml",
    "text/xml",
    "application/json-patch+json",
    "application/merge-patch+json",
];
/// The credentials this dialect accepts, in the order they are tried.
pub const SCHEMES: &[Scheme] = &[Scheme::Bearer, Scheme::Basic, Scheme::SoTicket, Scheme::Cookie];
/// The largest id SuperOffice's int32 fields hold.
pub const MAX_ID: u64 = i32::MAX as u64;

/// The SuperOffice conventions, for [`http::serve`] and the routes (`crate::routes`).
pub struct SuperOffice;

/// What the caller asked the answer to look like.
#[derive(Debug, Clone)]
pub struct Context {
    media_type: &'static str,
    zone: Zone,
    language: Chosen,
}

impl Context {
    fn is_xml(&self) -> bool {
        self.media_type.ends_with("/xml")
    }
}

/// What a SuperOffice handler answers: a domain value to render, and how.
#[derive(Debug)]
pub struct Answer {
    status: u16,
    entity: Entity,
    location: Option<String>,
    replayed: bool,
}

#[derive(Debug)]
enum Entity {
    Message(Box<Message>),
    Messages(Vec<Message>),
    Session(ThreadSummary),
    /// The resource lives at the path in `location` (a `308 Permanent Redirect`).
    Moved,
}

impl Answer {
    pub fn message(message: Message, replayed: bool) -> Answer {
        Answer { status: 200, entity: Entity::Message(Box::new(message)), location: None, replayed }
    }

    pub fn messages(messages: Vec<Message>) -> Answer {
        Answer { status: 200, entity: Entity::Messages(messages), location: None, replayed: false }
    }

    pub fn session(summary: ThreadSummary) -> Answer {
        Answer { status: 200, entity: Entity::Session(summary), location: None, replayed: false }
    }

    /// `308 Permanent Redirect` to `location` (the canonical form of a path sent with a trailing
    /// slash), with a body in the shape of SuperOffice's `ErrorInformation` saying where to go.
    pub fn moved(location: String) -> Answer {
        Answer { status: 308, entity: Entity::Moved, location: Some(location), replayed: false }
    }

    /// A new session: 201 with its `Location`.
    pub fn created_session(summary: ThreadSummary, replayed: bool) -> Answer {
        let location = format!("/api/v1/ChatSession/{}", summary.thread.thread_id);
        Answer { status: 201, entity: Entity::Session(summary), location: Some(location), replayed }
    }
}

impl Dialect for SuperOffice {
    type Answer = Answer;
    type Context = Context;
    const SCHEMES: &'static [Scheme] = SCHEMES;

    fn negotiate(request: &ApiRequest) -> (Context, Result<()>) {
        let language = language::choose(request.header("so-language"), request.header("accept-language"));
        let chosen = http::choose(request.header("accept"), ANSWER_TYPES);
        let zone = Zone::parse(request.header(dates::TIME_ZONE_HEADER));
        let mut context = Context { media_type: chosen.unwrap_or(ANSWER_TYPES[0]), zone: Zone::default(), language };
        let outcome = match (chosen, zone) {
            (None, _) => Err(Error::NotAcceptable),
            (Some(_), Err(err)) => Err(err),
            (Some(_), Ok(zone)) => {
                context.zone = zone;
                Ok(())
            }
        };
        (context, outcome)
    }

    fn render(answer: Answer, context: &Context) -> Result<Reply> {
        let (root, value) = match answer.entity {
            Entity::Message(message) => {
                ("ChatMessage", to_value(&ChatMessage::new(checked(*message)?, &context.zone))?)
            }
            Entity::Messages(messages) => {
                let messages = messages
                    .into_iter()
                    .map(|message| Ok(ChatMessage::new(checked(message)?, &context.zone)))
                    .collect::<Result<Vec<_>>>()?;
                ("ArrayOfChatMessage", to_value(&messages)?)
            }
            Entity::Session(summary) => ("ChatSession", to_value(&ChatSession::new(summary, &context.zone))?),
            Entity::Moved => {
                let location = answer.location.as_deref().unwrap_or_default();
                let message = match context.language.language {
                    language::Language::English => format!("moved permanently to {location}"),
                    language::Language::Norwegian => format!("Flyttet permanent til {location}."),
                };
                let value = serde_json::json!({
                    "Error": false,
                    "ErrorType": "PermanentRedirect",
                    "ErrorMessage": message,
                    "ErrorSource": "",
                });
                ("ErrorInformation", value)
            }
        };
        let mut reply = Reply::new(answer.status, content_type(context), body(context, root, "ChatMessage", &value));
        reply = reply.with_header("content-language", context.language.tag.clone());
        if let Some(location) = answer.location {
            reply = reply.with_header("location", location);
        }
        if answer.replayed {
            reply = reply.with_header("idempotent-replayed", "true");
        }
        Ok(reply)
    }

    fn render_error(err: &Error, context: &Context) -> Reply {
        let value = serde_json::json!({
            "Error": true,
            "ErrorType": errors::error_type(err),
            "ErrorMessage": errors::message(err, context.language.language),
            "ErrorSource": errors::source(err),
        });
        let reply = Reply::error(err, content_type(context), body(context, "ErrorInformation", "", &value))
            .with_header("content-language", context.language.tag.clone());
        match err {
            Error::Unauthorized(_) => {
                reply.with_header("www-authenticate", "Basic realm=\"Chat Center\", Bearer, SOTicket")
            }
            _ => reply,
        }
    }
}

/// SuperOffice ids are int32; an id beyond that cannot be shown to this dialect.
fn checked(message: Message) -> Result<Message> {
    if message.message_id > MAX_ID || message.thread_id > MAX_ID {
        return Err(Error::internal(format!("message {} does not fit SuperOffice's int32 ids", message.message_id)));
    }
    Ok(message)
}

fn to_value(value: &impl Serialize) -> Result<serde_json::Value> {
    serde_json::to_value(value).map_err(Error::internal)
}

fn content_type(context: &Context) -> String {
    format!("{}; charset=utf-8", context.media_type)
}

fn body(context: &Context, root: &str, item: &str, value: &serde_json::Value) -> String {
    if context.is_xml() { xml::write(root, item, value) } else { value.to_string() }
}

/// The `{chatSessionId}` of the path: an int32 from 1.
pub fn session_id(request: &ApiRequest) -> Result<u64> {
    request.path_id_at_most("chatSessionId", MAX_ID)
}
