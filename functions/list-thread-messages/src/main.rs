//! `GET /api/v1/threads/{threadId}/messages`: a thread's messages, newest first, paginated.

use shared::core::model::MESSAGING_ROLES;
use shared::core::threads;
use shared::edna::{self, wire::MessageList};
use shared::http::{self, ApiRequest, Reply};
use shared::store::PageStart;
use shared::{App, Result, routes};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = App::from_env().await?;
    edna::serve(app, routes::LIST_THREAD_MESSAGES, handle).await
}

async fn handle(app: &'static App, request: ApiRequest) -> Result<Reply> {
    let authentication = edna::authenticate(app, &request, MESSAGING_ROLES);
    let parsed = (|| {
        let thread_id = request.path_id("threadId")?;
        let limit = threads::page_size(request.query("limit"))?;
        let before = request.query("cursor").map(edna::decode_cursor).transpose()?;
        Ok((thread_id, limit, before))
    })();
    let (thread_id, limit, before) = match parsed {
        Ok(valid) => valid,
        Err(invalid) => return Err(http::refused(authentication, invalid).await),
    };
    let listing = threads::list_messages(&app.store, thread_id, limit, PageStart::NewestBefore(before));
    let (_, page) = http::authenticated(app, authentication, listing).await?;
    edna::ok(&MessageList::from(page))
}

#[cfg(test)]
mod tests;
