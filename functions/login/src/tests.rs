use serde_json::json;
use shared::core::credentials as auth;
use shared::core::model::Role;
use shared::routes;
use shared::store::AgentStore;
use shared::testing::{self, Event, FORMATS, PASSWORD};

use shared::routes::{handle, login::Login};

fn login_event(format: testing::Format, login: &str, password: &str) -> Event {
    Event::new(format, routes::LOGIN, &[]).json(&json!({"login": login, "password": password}))
}

#[tokio::test]
async fn a_known_agent_gets_a_working_token_in_both_payload_formats() {
    let app = testing::app().await;
    let (agent, _) = testing::agent(app, Role::Integrator).await;
    for format in FORMATS {
        let (status, body, response) =
            testing::call(app, routes::LOGIN, handle::<Login>, login_event(format, &agent.login, PASSWORD)).await;
        assert_eq!(status, 200, "{format:?}: {body}");
        let cookies: Vec<&str> =
            response.headers().get_all("set-cookie").iter().map(|value| value.to_str().unwrap()).collect();
        assert_eq!(cookies.len(), 2, "{cookies:?}");
        assert!(cookies[0].starts_with("chat_session=") && cookies[0].contains("HttpOnly"), "{cookies:?}");
        assert!(cookies[1].starts_with("XSRF-TOKEN=") && !cookies[1].contains("HttpOnly"), "{cookies:?}");
        let ticket = body["ticket"].as_str().unwrap().to_owned();
        let with_ticket = auth::Credentials::Ticket { ticket, app_token: None };
        assert!(auth::authenticate(&app.store, &with_ticket, &[Role::Integrator]).await.is_err(), "no app token");
        assert_eq!(body["userId"], json!(agent.agent_id));
        assert_eq!(body["login"], json!(agent.login));
        assert_eq!(body["role"], json!("INTEGRATOR"));
        let token = body["token"].as_str().unwrap();
        assert!(token.starts_with("Bearer "), "{token}");
        let bearer = auth::Credentials::Bearer(token.trim_start_matches("Bearer ").to_owned());
        let authenticated = auth::authenticate(&app.store, &bearer, &[Role::Integrator]).await.unwrap();
        assert_eq!(authenticated.agent_id, agent.agent_id);
    }
}

#[tokio::test]
async fn wrong_password_unknown_login_and_disabled_agent_get_the_same_401() {
    let app = testing::app().await;
    let (mut disabled, _) = testing::agent(app, Role::Operator).await;
    disabled.enabled = false;
    app.store.update_agent(&disabled).await.unwrap();
    let (agent, _) = testing::agent(app, Role::Operator).await;
    let attempts = [
        (agent.login.clone(), "wrong password".to_owned()),
        (testing::unique("nobody"), PASSWORD.to_owned()),
        (disabled.login.clone(), PASSWORD.to_owned()),
    ];
    let mut messages = Vec::new();
    for (login, password) in attempts {
        let (status, body, _) = testing::call(
            app,
            routes::LOGIN,
            handle::<Login>,
            login_event(testing::Format::HttpApiV2, &login, &password),
        )
        .await;
        assert_eq!(status, 401, "{login}: {body}");
        assert_eq!(body["code"], json!("UNAUTHORIZED"));
        messages.push(body["message"].clone());
    }
    assert!(messages.windows(2).all(|pair| pair[0] == pair[1]), "{messages:?}");
}

#[tokio::test]
async fn bad_bodies_get_400_naming_the_field() {
    let app = testing::app().await;
    let cases = [
        (r#"{"login": "a""#, "INVALID_JSON", None),
        (r#"{"login": "a"}"#, "VALIDATION_FAILED", Some("password")),
        (r#"{"login": 5, "password": "x"}"#, "VALIDATION_FAILED", Some("login")),
        (r#"{"login": "", "password": "x"}"#, "VALIDATION_FAILED", Some("login")),
        ("", "INVALID_JSON", None),
    ];
    for format in FORMATS {
        for (body, code, field) in cases {
            let event = Event::new(format, routes::LOGIN, &[]).body(body);
            let (status, reply, _) = testing::call(app, routes::LOGIN, handle::<Login>, event).await;
            assert_eq!(status, 400, "{body}: {reply}");
            assert_eq!(reply["code"], json!(code), "{body}");
            assert_eq!(reply.get("field").and_then(|f| f.as_str()), field, "{body}");
        }
    }
}

#[tokio::test]
async fn wrong_media_types_and_oversized_bodies_are_refused() {
    let app = testing::app().await;
    let text = Event::new(testing::Format::HttpApiV2, routes::LOGIN, &[])
        .header("Content-Type", "text/plain")
        .body(r#"{"login":"a","password":"b"}"#);
    assert_eq!(testing::call(app, routes::LOGIN, handle::<Login>, text).await.0, 415);

    let html_only = login_event(testing::Format::RestApiV1, "a", "b").header("Accept", "text/html");
    assert_eq!(testing::call(app, routes::LOGIN, handle::<Login>, html_only).await.0, 406);

    let huge = format!(r#"{{"login":"a","password":"{}"}}"#, "x".repeat(300 * 1024));
    let event = Event::new(testing::Format::HttpApiV2, routes::LOGIN, &[]).body(&huge);
    let (status, body, _) = testing::call(app, routes::LOGIN, handle::<Login>, event).await;
    assert_eq!((status, body["code"].as_str()), (413, Some("PAYLOAD_TOO_LARGE")));
}

#[tokio::test]
async fn the_request_id_is_echoed_or_taken_from_api_gateway() {
    let app = testing::app().await;
    for format in FORMATS {
        let event = login_event(format, "a", "b").header("X-Request-Id", "trace-123");
        let (_, _, response) = testing::call(app, routes::LOGIN, handle::<Login>, event).await;
        assert_eq!(response.headers()["x-request-id"], "trace-123");
        let event = login_event(format, "a", "b");
        let gateway_id = event.gateway_request_id().to_owned();
        let (_, _, response) = testing::call(app, routes::LOGIN, handle::<Login>, event).await;
        assert_eq!(response.headers()["x-request-id"], gateway_id.as_str());
        assert_eq!(response.headers()["content-type"], "application/json");
    }
}

#[tokio::test]
async fn five_failed_logins_lock_the_login_until_an_operator_resets_it() {
    let app = testing::app().await;
    let (agent, _) = testing::agent(app, Role::Supervisor).await;
    let attempt = |password: &'static str| {
        let event = login_event(testing::Format::HttpApiV2, &agent.login, password);
        testing::call(app, routes::LOGIN, handle::<Login>, event)
    };
    // A success in between starts the count again.
    for _ in 0..4 {
        assert_eq!(attempt("wrong password").await.0, 401);
    }
    assert_eq!(attempt(PASSWORD).await.0, 200);
    for _ in 0..5 {
        assert_eq!(attempt("wrong password").await.0, 401);
    }
    let (status, body, response) = attempt(PASSWORD).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("RATE_LIMITED")), "{body}");
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=auth::LOCKOUT.as_secs() as u64).contains(&retry_after), "{retry_after}");

    auth::reset_password(&app.store, &agent.login, "a brand new password").await.unwrap();
    assert_eq!(attempt("a brand new password").await.0, 200);
}

async fn attempt(
    app: &'static shared::App,
    login: &str,
    password: &str,
) -> (u16, serde_json::Value, lambda_http::Response<lambda_http::Body>) {
    testing::call(app, routes::LOGIN, handle::<Login>, login_event(testing::Format::HttpApiV2, login, password)).await
}

#[tokio::test]
async fn an_unknown_login_locks_like_a_real_one_so_the_lockout_tells_no_names() {
    let app = testing::app().await;
    let (agent, _) = testing::agent(app, Role::Operator).await;
    let nobody = testing::unique("nobody");
    let mut answers = Vec::new();
    for login in [agent.login.as_str(), nobody.as_str()] {
        for _ in 0..auth::MAX_FAILED_LOGINS {
            assert_eq!(attempt(app, login, "wrong password").await.0, 401, "{login}");
        }
        let (status, body, response) = attempt(app, login, PASSWORD).await;
        let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=auth::LOCKOUT.as_secs() as u64).contains(&retry_after), "{login}: {retry_after}");
        // The same answer but for the seconds left.
        let message = body["message"].as_str().unwrap().replace(|c: char| c.is_ascii_digit(), "");
        let mut headers: Vec<&str> = response.headers().keys().map(|name| name.as_str()).collect();
        headers.sort_unstable();
        answers.push((status, body["code"].clone(), message, headers.join(",")));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0, 429, "{answers:?}");

    // The count of a login nobody has is no agent, and the name can still be given to one, who
    // starts without the guesser's lock.
    assert!(app.store.agent_by_login(&nobody).await.unwrap().is_none());
    assert!(!app.store.list_agents().await.unwrap().iter().any(|listed| listed.login == nobody));
    let created = auth::register_agent(&app.store, &nobody, Role::Operator, PASSWORD).await.unwrap();
    let (status, body, _) = attempt(app, &nobody, PASSWORD).await;
    assert_eq!((status, &body["userId"]), (200, &json!(created.agent_id)), "{body}");
}
