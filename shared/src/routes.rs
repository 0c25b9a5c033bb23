//! Every route of `template.yaml`, named once for the functions that serve them and for the
//! catch-all that answers 404/405 (`tests/check_routes.py` keeps this list and the template equal).

use crate::http::Route;

pub const LOGIN: Route = Route { method: "POST", pattern: "/api/auth/login" };
pub const SEND_OUTGOING: Route = Route { method: "POST", pattern: "/api/v1/messages/outgoing" };
pub const SEND_OUTGOING_TO_DEVICE: Route = Route { method: "POST", pattern: "/api/v1/messages/outgoing-to-device" };
pub const GET_THREAD: Route = Route { method: "GET", pattern: "/api/v1/threads/{threadId}" };
pub const LIST_THREAD_MESSAGES: Route = Route { method: "GET", pattern: "/api/v1/threads/{threadId}/messages" };
pub const CLOSE_THREAD: Route = Route { method: "POST", pattern: "/api/v1/threads/{threadId}/close" };
pub const CREATE_CHAT_SESSION: Route = Route { method: "POST", pattern: "/api/v1/ChatSession" };
pub const GET_CHAT_SESSION: Route = Route { method: "GET", pattern: "/api/v1/ChatSession/{chatSessionId}" };
pub const POST_CHAT_MESSAGE: Route = Route { method: "POST", pattern: "/api/v1/ChatSession/{chatSessionId}/Messages" };
pub const LIST_CHAT_MESSAGES: Route = Route { method: "GET", pattern: "/api/v1/ChatSession/{chatSessionId}/Messages" };
/// The `$default` route: everything no other route takes.
pub const CATCH_ALL: Route = Route { method: "ANY", pattern: "/{proxy+}" };

pub const ALL: &[Route] = &[
    LOGIN,
    SEND_OUTGOING,
    SEND_OUTGOING_TO_DEVICE,
    GET_THREAD,
    LIST_THREAD_MESSAGES,
    CLOSE_THREAD,
    CREATE_CHAT_SESSION,
    GET_CHAT_SESSION,
    POST_CHAT_MESSAGE,
    LIST_CHAT_MESSAGES,
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

/// True when `path` (possibly behind a stage prefix) has the shape of `pattern`.
pub fn matches(pattern: &str, path: &str) -> bool {
    align(pattern, path).is_some_and(|mut pairs| {
        pairs.all(|(expected, actual)| (expected.starts_with('{') && !actual.is_empty()) || expected == actual)
    })
}

/// The path segment that `{name}` stands for in `pattern`.
pub fn path_parameter<'a>(pattern: &'a str, path: &'a str, name: &str) -> Option<&'a str> {
    let wanted = format!("{{{name}}}");
    align(pattern, path)?.find(|(segment, _)| *segment == wanted).map(|(_, value)| value)
}

/// The methods other routes accept for this path; empty when the path is unknown.
pub fn methods_for(path: &str) -> Vec<&'static str> {
    ALL.iter().filter(|route| matches(route.pattern, path)).map(|route| route.method).collect()
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
    fn path_parameters_are_found_behind_a_stage_prefix() {
        let pattern = "/api/v1/threads/{threadId}/messages";
        assert_eq!(path_parameter(pattern, "/api/v1/threads/12/messages", "threadId"), Some("12"));
        assert_eq!(path_parameter(pattern, "/prod/api/v1/threads/12/messages", "threadId"), Some("12"));
        assert_eq!(path_parameter(pattern, "/short", "threadId"), None);
    }
}
