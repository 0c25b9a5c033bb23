//! The bodies of `POST /api/v1/webchat/visitors` (`docs/webchat.md`), in edna's style.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::core::validation::check_length;
use crate::core::webchat::{MAX_NAME_CHARS, NewVisitor, VisitorRequest};
use crate::http::ApiRequest;

/// Who the visitor is; every field may be left out (an empty body too: a new anonymous client).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VisitorBody {
    pub client_id: Option<String>,
    pub unauthorized_client_id: Option<String>,
    pub name: Option<String>,
}

impl VisitorBody {
    pub fn read(request: &ApiRequest) -> Result<VisitorRequest> {
        let body = if request.body().iter().all(u8::is_ascii_whitespace) {
            VisitorBody::default()
        } else {
            super::body::<VisitorBody>(request)?
        };
        if let Some(name) = &body.name {
            check_length(name, MAX_NAME_CHARS, "name")?;
        }
        VisitorRequest { external_id: body.client_id, unauthorized_id: body.unauthorized_client_id, name: body.name }
            .check()
    }
}

/// The new visitor: the token is shown here only.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VisitorCreated {
    pub visitor_token: String,
    pub device_address: String,
    pub client_id: u64,
    pub client_external_id: Option<String>,
    /// Where the page connects (`?token=`); `null` when the stack has no WebSocket API.
    pub websocket_url: Option<String>,
    pub expires_at: Timestamp,
}

impl VisitorCreated {
    pub fn new(created: NewVisitor, websocket_url: Option<String>) -> Self {
        VisitorCreated {
            visitor_token: created.token,
            device_address: created.visitor.device_address,
            client_id: created.client.client_id,
            client_external_id: created.client.external_id,
            websocket_url,
            expires_at: created.visitor.expires_at,
        }
    }
}
