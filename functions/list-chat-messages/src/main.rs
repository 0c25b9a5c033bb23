//! `GET /api/v1/ChatSession/{chatSessionId}/Messages?after=`: the session's messages after one,
//! oldest first.

use shared::core::model::MESSAGING_ROLES;
use shared::core::threads;
use shared::http::{self, ApiRequest};
use shared::superoffice::{self, Answer};
use shared::{App, Error, Result, routes};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = App::from_env().await?;
    superoffice::serve(app, routes::LIST_CHAT_MESSAGES, handle).await
}

async fn handle(app: &'static App, request: ApiRequest) -> Result<Answer> {
    let authentication = superoffice::authenticate(app, &request, MESSAGING_ROLES);
    let parsed = (|| {
        let session_id = superoffice::session_id(&request)?;
        let limit = threads::page_size(request.query("limit"))?;
        let after = match request.query("after") {
            None => 0,
            Some(raw) => {
                shared::json::count_text(raw.trim()).filter(|id| *id <= superoffice::MAX_ID).ok_or_else(|| {
                    Error::invalid("after", format!("after must be a ChatMessageId from 0 to {}", superoffice::MAX_ID))
                })?
            }
        };
        Ok((session_id, limit, after))
    })();
    let (session_id, limit, after) = match parsed {
        Ok(valid) => valid,
        Err(invalid) => return Err(http::refused(authentication, invalid).await),
    };
    let listing = threads::list_messages_after(&app.store, session_id, after, limit);
    let (_, page) = http::authenticated(app, authentication, listing).await?;
    Ok(Answer::messages(page.messages))
}

#[cfg(test)]
mod tests;
