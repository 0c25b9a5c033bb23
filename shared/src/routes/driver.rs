//! The one driver of every HTTP route. A route says how it reads a request ([`Endpoint::parse`],
//! no store), what it reads from the store alongside authentication ([`Endpoint::look_up`]) and
//! what it then does and answers ([`Endpoint::run`]); [`handle`] does the rest, in one order for
//! every route:
//!
//! 1. (the edge, `http::respond`: deadline scope, negotiation, the size check, the log line)
//! 2. authentication starts, and the request is parsed: body, path, query and `Idempotency-Key`
//!    are checked before the store is asked anything;
//! 3. a request that does not parse is refused, but bad credentials are told before a bad
//!    request;
//! 4. the route's read runs alongside authentication (`http::authenticated`), so a caller whose
//!    credentials fail learns nothing of it;
//! 5. the key is scoped to the caller, and the route runs: its writes go through
//!    [`Once::run`], which gives a retry with the key the first result.

use std::future::Future;

use crate::core::credentials;
use crate::core::idempotency::{self, KeyClaimed, Outcome, Replayable, RequestKey};
use crate::core::model::{Agent, Role};
use crate::http::{self, ApiRequest, Dialect, Route};
use crate::{App, Result};

/// One HTTP route: how it reads a request, what it reads alongside authentication, and what it
/// does. Each lives in its own module of [`crate::routes`].
pub trait Endpoint: 'static {
    /// The dialect it speaks (what `run` answers, how errors look).
    type Dialect: Dialect;
    /// Who may call it: an [`Agent`] in one of [`Endpoint::ROLES`], or [`Anyone`].
    type Caller: Caller;
    /// The request as the route reads it.
    type Input: Send + Sync;
    /// What [`Endpoint::look_up`] reads.
    type Found: Send;

    const ROUTE: Route;
    /// The roles that may call it (read when the caller is an [`Agent`]).
    const ROLES: &'static [Role] = &[];
    /// Whether it honours `Idempotency-Key` (every POST that creates something).
    const IDEMPOTENT: bool = false;

    /// Reads the request; touches no store. The fuzz targets run exactly this.
    fn parse(request: &ApiRequest) -> Result<Self::Input>;

    /// Reads what the route needs before it may write; runs alongside authentication.
    fn look_up(app: &'static App, input: &Self::Input) -> impl Future<Output = Result<Self::Found>> + Send;

    /// Does the route's work for an authenticated caller and answers.
    fn run(
        app: &'static App,
        call: Call<Self::Caller, Self::Input, Self::Found>,
    ) -> impl Future<Output = Result<<Self::Dialect as Dialect>::Answer>> + Send;
}

/// What [`Endpoint::run`] gets: the caller, the parsed request, what was read, and the request's
/// key for its writes.
pub struct Call<C, I, F> {
    pub caller: C,
    pub input: I,
    pub found: F,
    pub once: Once,
}

/// A route's writes, run at most once per `Idempotency-Key` (a route that is not
/// [`Endpoint::IDEMPOTENT`] gets no key: its work simply runs).
pub struct Once {
    app: &'static App,
    key: Option<RequestKey>,
}

impl Once {
    pub async fn run<T, F, Fut>(self, work: F) -> Result<Outcome<T>>
    where
        T: Replayable,
        F: FnOnce(Option<KeyClaimed>) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        idempotency::once(&self.app.store, self.key, work).await
    }
}

/// Who is calling: how a route's credentials are read and checked.
pub trait Caller: Sized + Send + 'static {
    /// Reads the credentials off the request in dialect `D`'s schemes, without the store (the
    /// fuzz targets run this).
    fn read_credentials<D: Dialect>(request: &ApiRequest) -> Result<()>;

    fn authenticate<'a, D: Dialect>(
        app: &'static App,
        request: &'a ApiRequest,
        roles: &'static [Role],
    ) -> impl Future<Output = Result<Self>> + Send + 'a;

    /// The agent idempotency keys are scoped to.
    fn key_scope(&self) -> u64;
}

/// An agent whose credentials hold and whose role is one of the route's.
impl Caller for Agent {
    fn read_credentials<D: Dialect>(request: &ApiRequest) -> Result<()> {
        http::credentials(request, D::SCHEMES).map(drop)
    }

    async fn authenticate<D: Dialect>(
        app: &'static App,
        request: &ApiRequest,
        roles: &'static [Role],
    ) -> Result<Agent> {
        let credentials = http::credentials(request, D::SCHEMES)?;
        credentials::authenticate(&app.store, &credentials, roles).await
    }

    fn key_scope(&self) -> u64 {
        self.agent_id
    }
}

/// A route anyone may call (login): no credentials are read.
pub struct Anyone;

impl Caller for Anyone {
    fn read_credentials<D: Dialect>(_: &ApiRequest) -> Result<()> {
        Ok(())
    }

    fn authenticate<'a, D: Dialect>(
        _: &'static App,
        _: &'a ApiRequest,
        _: &'static [Role],
    ) -> impl Future<Output = Result<Anyone>> + Send + 'a {
        std::future::ready(Ok(Anyone))
    }

    fn key_scope(&self) -> u64 {
        0
    }
}

/// Everything a route reads off a request before the store is asked: its credentials' form, its
/// own input and its `Idempotency-Key`. [`handle`] and the fuzz targets both use it.
pub fn parse<E: Endpoint>(request: &ApiRequest) -> Result<E::Input> {
    let input = E::parse(request)?;
    if E::IDEMPOTENT {
        request.idempotency_key(0)?;
    }
    Ok(input)
}

/// Answers one request of route `E` (the edge, `http::respond`, calls it inside the deadline).
pub async fn handle<E: Endpoint>(app: &'static App, request: ApiRequest) -> Result<<E::Dialect as Dialect>::Answer> {
    let authentication = E::Caller::authenticate::<E::Dialect>(app, &request, E::ROLES);
    let input = match parse::<E>(&request) {
        Ok(input) => input,
        Err(invalid) => return Err(http::refused(authentication, invalid).await),
    };
    let (caller, found) = http::authenticated(app, authentication, E::look_up(app, &input)).await?;
    let key = if E::IDEMPOTENT { request.idempotency_key(caller.key_scope())? } else { None };
    E::run(app, Call { caller, input, found, once: Once { app, key } }).await
}

/// The Lambda loop of route `E`: what a function's `main` calls.
pub async fn serve<E: Endpoint>() -> Result<(), lambda_http::Error> {
    let app = App::from_env().await?;
    http::serve::<E::Dialect, _, _, _>(app, E::ROUTE, handle::<E>).await
}
