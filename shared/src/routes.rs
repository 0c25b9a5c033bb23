//! Every route of `template.yaml`, named once for the functions that serve them and for the
//! catch-all that answers 404/405 (`tests/check_routes.py` keeps this list and the template equal).

use crate::http::Route;

pub const LOGIN: Route = Route { method: "POST", pattern: "/api/auth/login" };
pub const SEND_OUTGOING: Route = Route { method: "POST", pattern: "/api/v1/messages/outgoing" };
pub const SEND_OUTGOING_TO_DEVICE: Route = Route { method: "POST", pattern: "/api/v1/messages/outgoing-to-device" };
pub const GET_THREAD: Route = Route { method: "GET", pattern: "/api/v1/threads/{threadId}" };
pub const LIST_THREAD_MESSAGES: Route = Route { method: "GET", pattern: "/api/v1/threads/{threadId}/messages" };
pub const CLOSE_THREAD: Route = Route { method: "POST", pattern: "/api/v1/threads/{threadId}/close" };
/// The `$default` route: everything no other route takes.
pub const CATCH_ALL: Route = Route { method: "ANY", pattern: "/{proxy+}" };

pub const ALL: &[Route] =
    &[LOGIN, SEND_OUTGOING, SEND_OUTGOING_TO_DEVICE, GET_THREAD, LIST_THREAD_MESSAGES, CLOSE_THREAD];

/// True when `path` (possibly behind a stage prefix) has the shape of `pattern`.
pub fn matches(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.trim_matches('/').split('/').collect();
    let path: Vec<&str> = path.trim_matches('/').split('/').collect();
    let Some(offset) = path.len().checked_sub(pattern.len()) else { return false };
    pattern
        .iter()
        .zip(&path[offset..])
        .all(|(expected, actual)| (expected.starts_with('{') && !actual.is_empty()) || expected == actual)
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
}
