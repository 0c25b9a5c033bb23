//! Every route of `template.yaml`: its method and path (named once for the functions that serve
//! them and for the catch-all that answers 404/405; `tests/check_routes.py` keeps this list and
//! the template equal), and one module per route holding how it reads a request and what it does,
//! driven by [`driver`]. A function's `main` names its route and calls [`serve`].

pub mod close_thread;
#[cfg(feature = "superoffice")]
pub mod create_chat_session;
pub mod create_visitor;
pub mod create_webhook;
pub mod delete_webhook;
mod driver;
#[cfg(feature = "superoffice")]
pub mod get_chat_session;
pub mod get_thread;
pub mod get_webhook;
#[cfg(feature = "superoffice")]
pub mod list_chat_messages;
pub mod list_events;
pub mod list_thread_messages;
pub mod list_webhook_deliveries;
pub mod list_webhooks;
pub mod login;
#[cfg(feature = "superoffice")]
pub mod not_found;
#[cfg(feature = "superoffice")]
pub mod post_chat_message;
pub mod receive_incoming;
pub mod replay_webhook;
pub mod rotate_webhook_secret;
pub mod send_outgoing;
pub mod send_outgoing_to_device;
pub mod update_message_status;

pub use driver::{Anyone, Call, Caller, Endpoint, Once, handle, parse, serve};

use crate::Error;
use crate::http::{ApiRequest, Dialect, Route, status_of};

pub const LOGIN: Route = Route { method: "POST", pattern: "/api/auth/login" };
pub const SEND_OUTGOING: Route = Route { method: "POST", pattern: "/api/v1/messages/outgoing" };
pub const SEND_OUTGOING_TO_DEVICE: Route = Route { method: "POST", pattern: "/api/v1/messages/outgoing-to-device" };
pub const RECEIVE_INCOMING: Route = Route { method: "POST", pattern: "/api/v1/messages/incoming" };
pub const UPDATE_MESSAGE_STATUS: Route = Route { method: "POST", pattern: "/api/v1/messages/{id}/status" };
pub const GET_THREAD: Route = Route { method: "GET", pattern: "/api/v1/threads/{threadId}" };
pub const LIST_THREAD_MESSAGES: Route = Route { method: "GET", pattern: "/api/v1/threads/{threadId}/messages" };
pub const CLOSE_THREAD: Route = Route { method: "POST", pattern: "/api/v1/threads/{threadId}/close" };
pub const CREATE_CHAT_SESSION: Route = Route { method: "POST", pattern: "/api/v1/ChatSession" };
pub const GET_CHAT_SESSION: Route = Route { method: "GET", pattern: "/api/v1/ChatSession/{chatSessionId}" };
pub const POST_CHAT_MESSAGE: Route = Route { method: "POST", pattern: "/api/v1/ChatSession/{chatSessionId}/Messages" };
pub const LIST_CHAT_MESSAGES: Route = Route { method: "GET", pattern: "/api/v1/ChatSession/{chatSessionId}/Messages" };
pub const CREATE_WEBHOOK: Route = Route { method: "POST", pattern: "/api/v1/webhooks" };
pub const LIST_WEBHOOKS: Route = Route { method: "GET", pattern: "/api/v1/webhooks" };
pub const GET_WEBHOOK: Route = Route { method: "GET", pattern: "/api/v1/webhooks/{id}" };
pub const DELETE_WEBHOOK: Route = Route { method: "DELETE", pattern: "/api/v1/webhooks/{id}" };
pub const ROTATE_WEBHOOK_SECRET: Route = Route { method: "POST", pattern: "/api/v1/webhooks/{id}/rotate-secret" };
pub const LIST_WEBHOOK_DELIVERIES: Route = Route { method: "GET", pattern: "/api/v1/webhooks/{id}/deliveries" };
pub const REPLAY_WEBHOOK: Route = Route { method: "POST", pattern: "/api/v1/webhooks/{id}/replay" };
pub const LIST_EVENTS: Route = Route { method: "GET", pattern: "/api/v1/events" };
pub const CREATE_VISITOR: Route = Route { method: "POST", pattern: "/api/v1/webchat/visitors" };
/// The `$default` route: everything no other route takes.
pub const CATCH_ALL: Route = Route { method: "ANY", pattern: "/{proxy+}" };

pub const ALL: &[Route] = &[
    LOGIN,
    SEND_OUTGOING,
    SEND_OUTGOING_TO_DEVICE,
    RECEIVE_INCOMING,
    UPDATE_MESSAGE_STATUS,
    GET_THREAD,
    LIST_THREAD_MESSAGES,
    CLOSE_THREAD,
    CREATE_CHAT_SESSION,
    GET_CHAT_SESSION,
    POST_CHAT_MESSAGE,
    LIST_CHAT_MESSAGES,
    CREATE_WEBHOOK,
    LIST_WEBHOOKS,
    GET_WEBHOOK,
    DELETE_WEBHOOK,
    ROTATE_WEBHOOK_SECRET,
    LIST_WEBHOOK_DELIVERIES,
    REPLAY_WEBHOOK,
    LIST_EVENTS,
    CREATE_VISITOR,
];

/// The SuperOffice dialect's paths, whose 404/405 answers use its error body.
pub const SUPEROFFICE_PREFIX: &str = "/api/v1/ChatSession";

/// Pairs each segment of `pattern` with the path segment it stands over, aligned at the end so
/// that a stage prefix (`/prod/...`) is skipped; `None` when the path is too short.
fn align<'a>(pattern: &'a str, path: &'a str) -> Option<impl Iterator<Item = (&'a str, &'a str)>> {
    let pattern: Vec<&str> = pattern.trim_matches('/').split('/').collect();
    let path: Vec<&str> = path.trim_matches('/').split('/').collect();
    let offset = path.len().checked_sub(pattern.len())?;
    Some(pattern.into_iter().zip(path.into_iter().skip(offset)))
}

/// True when `path` (possibly behind a stage prefix) has the shape of `pattern`. A trailing
/// slash is another path, as API Gateway sees it: the `$default` route gets it ([`canonical`]).
pub fn matches(pattern: &str, path: &str) -> bool {
    !has_trailing_slash(path)
        && align(pattern, path).is_some_and(|mut pairs| {
            pairs.all(|(expected, actual)| (expected.starts_with('{') && !actual.is_empty()) || expected == actual)
        })
}

/// The path segment that `{name}` stands for in `pattern`.
pub fn path_parameter<'a>(pattern: &'a str, path: &'a str, name: &str) -> Option<&'a str> {
    let wanted = format!("{{{name}}}");
    align(pattern, path)?.find(|(segment, _)| *segment == wanted).map(|(_, value)| value)
}

fn has_trailing_slash(path: &str) -> bool {
    path.len() > 1 && path.ends_with('/')
}

/// The canonical form of a path that ends with slashes: the same path without them, when that is
/// a path some route takes (possibly behind a stage prefix). `None` for any other path, and for
/// one whose segments are empty or hold anything but URI-safe characters (so that a redirect to
/// it can only stay on this host: no `//host` or `/\host`).
pub fn canonical(path: &str) -> Option<&str> {
    if !has_trailing_slash(path) {
        return None;
    }
    let trimmed = path.trim_end_matches('/');
    let safe = |segment: &str| {
        !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=:@".contains(&b))
    };
    let well_formed = trimmed.strip_prefix('/').is_some_and(|rest| rest.split('/').all(safe));
    (well_formed && !methods_for(trimmed).is_empty()).then_some(trimmed)
}

/// The methods other routes accept for this path; empty when the path is unknown.
pub fn methods_for(path: &str) -> Vec<&'static str> {
    ALL.iter().filter(|route| matches(route.pattern, path)).map(|route| route.method).collect()
}

/// The route API Gateway picks for `method` and `path`: a route of `template.yaml`, else the
/// `$default` route (the `not-found` function).
pub fn route_for(method: &str, path: &str) -> Route {
    ALL.iter().copied().find(|route| route.method == method && matches(route.pattern, path)).unwrap_or(CATCH_ALL)
}

/// One route's reading of a request without the store, for the fuzz targets: the same
/// [`driver::parse`] the route runs, found by its [`Route`] in [`READERS`].
pub struct Reader {
    pub route: Route,
    pub refusals: fn(&ApiRequest) -> Vec<Refusal>,
}

impl Reader {
    const fn of<E: Endpoint>() -> Reader {
        Reader { route: E::ROUTE, refusals: refusals::<E> }
    }
}

/// Every route served by a function of its own (`not-found` answers the rest).
pub const READERS: &[Reader] = &[
    Reader::of::<login::Login>(),
    Reader::of::<send_outgoing::SendOutgoing>(),
    Reader::of::<send_outgoing_to_device::SendOutgoingToDevice>(),
    Reader::of::<receive_incoming::ReceiveIncoming>(),
    Reader::of::<update_message_status::UpdateMessageStatus>(),
    Reader::of::<get_thread::GetThread>(),
    Reader::of::<list_thread_messages::ListThreadMessages>(),
    Reader::of::<close_thread::CloseThread>(),
    #[cfg(feature = "superoffice")]
    Reader::of::<create_chat_session::CreateChatSession>(),
    #[cfg(feature = "superoffice")]
    Reader::of::<get_chat_session::GetChatSession>(),
    #[cfg(feature = "superoffice")]
    Reader::of::<post_chat_message::PostChatMessage>(),
    #[cfg(feature = "superoffice")]
    Reader::of::<list_chat_messages::ListChatMessages>(),
    Reader::of::<create_webhook::CreateWebhook>(),
    Reader::of::<list_webhooks::ListWebhooks>(),
    Reader::of::<get_webhook::GetWebhook>(),
    Reader::of::<delete_webhook::DeleteWebhook>(),
    Reader::of::<rotate_webhook_secret::RotateWebhookSecret>(),
    Reader::of::<list_webhook_deliveries::ListWebhookDeliveries>(),
    Reader::of::<replay_webhook::ReplayWebhook>(),
    Reader::of::<list_events::ListEvents>(),
    Reader::of::<create_visitor::CreateVisitor>(),
];

/// An error a request was refused with before the store was asked, and the status of the answer
/// its route's dialect rendered for it.
#[derive(Debug)]
pub struct Refusal {
    pub error: Error,
    /// `status_of(&error)`, the one mapping of errors to statuses.
    pub status: u16,
    /// The status of the response the dialect rendered.
    pub answered: u16,
}

/// What route `E` refuses `request` with before the store is asked: negotiation and the size
/// check (as the edge does them), the form of its credentials, then its [`driver::parse`].
fn refusals<E: Endpoint>(request: &ApiRequest) -> Vec<Refusal> {
    refused::<E::Dialect>(request, |request| {
        [E::Caller::read_credentials::<E::Dialect>(request), parse::<E>(request).map(drop)]
            .into_iter()
            .filter_map(Result::err)
            .collect()
    })
}

fn refused<D: Dialect>(request: &ApiRequest, read: impl Fn(&ApiRequest) -> Vec<Error>) -> Vec<Refusal> {
    let (context, negotiated) = D::negotiate(request);
    let errors = match negotiated.and_then(|()| request.check_size()) {
        Err(err) => vec![err],
        Ok(()) => read(request),
    };
    errors
        .into_iter()
        .map(|error| {
            let answered = D::render_error(&error, &context).into_response(request.request_id()).status().as_u16();
            Refusal { status: status_of(&error), answered, error }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_paths_report_their_methods() {
        assert_eq!(methods_for("/api/v1/threads/5"), vec!["GET"]);
        assert_eq!(methods_for("/prod/api/v1/threads/5/close"), vec!["POST"]);
        assert_eq!(methods_for("/api/auth/login"), vec!["POST"]);
        assert!(methods_for("/api/v1/nothing").is_empty());
        assert!(methods_for("/").is_empty());
    }

    #[test]
    fn a_trailing_slash_is_another_path_whose_canonical_form_is_known() {
        assert!(methods_for("/api/v1/threads/5/").is_empty());
        assert_eq!(route_for("GET", "/api/v1/threads/5/"), CATCH_ALL);
        assert_eq!(canonical("/api/v1/threads/5/"), Some("/api/v1/threads/5"));
        assert_eq!(canonical("/api/v1/ChatSession//"), Some("/api/v1/ChatSession"));
        assert_eq!(canonical("/prod/api/v1/webhooks/wh_1/replay/"), Some("/prod/api/v1/webhooks/wh_1/replay"));
        // Unknown without its slash, already canonical, or not a path to send anyone to.
        assert_eq!(canonical("/api/v1/nothing/"), None);
        assert_eq!(canonical("/api/v1/threads/5"), None);
        assert_eq!(canonical("/"), None);
        assert_eq!(canonical("//api/v1/threads/5/"), None);
        assert_eq!(canonical("/\\evil.example/api/v1/threads/5/"), None);
        assert_eq!(canonical("/api/v1/threads/5 /"), None);
    }

    #[test]
    fn path_parameters_are_found_behind_a_stage_prefix() {
        let pattern = "/api/v1/threads/{threadId}/messages";
        assert_eq!(path_parameter(pattern, "/api/v1/threads/12/messages", "threadId"), Some("12"));
        assert_eq!(path_parameter(pattern, "/prod/api/v1/threads/12/messages", "threadId"), Some("12"));
        assert_eq!(path_parameter(pattern, "/short", "threadId"), None);
    }

    /// Every route of the template has its reader, under its own route.
    #[test]
    fn every_route_has_one_reader() {
        let read: Vec<Route> = READERS.iter().map(|reader| reader.route).collect();
        assert_eq!(read, ALL);
    }
}
