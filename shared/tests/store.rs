//! The DynamoDB adapter against DynamoDB Local: the rules the database must enforce.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;
use shared::Error;
use shared::core::credentials;
use shared::core::model::{Client, Message, Role, Thread, ThreadStatus};
use shared::store::{
    AgentStore, Alongside, ClientStore, CompletedKey, FailedLogins, IdKind, IdStore, IdempotencyStore, KeyClaim,
    MessagePosition, PageStart, ThreadStore, Write,
};
use shared::testing;

fn thread(thread_id: u64, client_id: u64) -> Thread {
    let now = Timestamp::now();
    Thread {
        thread_id,
        client_id,
        status: ThreadStatus::Open,
        start_time: now,
        last_message_time: now,
        message_count: 1,
    }
}

fn message(message_id: u64, thread_id: u64, client_id: u64) -> Message {
    Message {
        message_id,
        thread_id,
        client_id,
        sender: shared::core::model::Sender::Agent(1),
        text: format!("message {message_id}"),
        attachments: vec![],
        created_at: Timestamp::now(),
        ..Message::default()
    }
}

#[tokio::test]
async fn ids_count_up_per_kind() {
    let app = testing::app().await;
    let first = app.store.next_id(IdKind::Message).await.unwrap();
    let second = app.store.next_id(IdKind::Message).await.unwrap();
    assert_eq!(second, first + 1);
}

#[tokio::test]
async fn logins_are_unique_regardless_of_case() {
    let app = testing::app().await;
    let (agent, _) = testing::agent(app, Role::Integrator).await;
    let mut twin = agent.clone();
    twin.agent_id = app.store.next_id(IdKind::Agent).await.unwrap();
    twin.login = agent.login.to_uppercase();
    assert_eq!(app.store.create_agent(&twin).await.unwrap(), Write::Refused);
    let found = app.store.agent_by_login(&twin.login).await.unwrap().unwrap();
    assert_eq!(found.agent_id, agent.agent_id);
    let listed = app.store.list_agents().await.unwrap();
    assert!(listed.iter().any(|a| a.agent_id == agent.agent_id));
    assert!(!listed.iter().any(|a| a.agent_id == twin.agent_id), "the refused agent was not written");
}

#[tokio::test]
async fn external_ids_are_unique() {
    let app = testing::app().await;
    let client = testing::client(app).await;
    let twin = Client { client_id: app.store.next_id(IdKind::Client).await.unwrap(), ..client.clone() };
    assert_eq!(app.store.create_client(&twin).await.unwrap(), Write::Refused);
    assert!(app.store.client(twin.client_id).await.unwrap().is_none(), "nothing of the refused client was written");
    let found = app.store.client_by_external_id(client.external_id.as_deref().unwrap()).await.unwrap();
    assert_eq!(found.unwrap().client_id, client.client_id);
}

#[tokio::test]
async fn a_client_has_at_most_one_open_thread() {
    let app = testing::app().await;
    let client = testing::client(app).await;
    let (a, b) = (app.store.next_id(IdKind::Thread).await.unwrap(), app.store.next_id(IdKind::Thread).await.unwrap());
    let m = app.store.next_id(IdKind::Message).await.unwrap();
    assert_eq!(
        app.store
            .open_thread(&thread(a, client.client_id), Some(&message(m, a, client.client_id)), &Alongside::default())
            .await
            .unwrap(),
        Write::Done
    );
    let m2 = app.store.next_id(IdKind::Message).await.unwrap();
    assert_eq!(
        app.store
            .open_thread(&thread(b, client.client_id), Some(&message(m2, b, client.client_id)), &Alongside::default())
            .await
            .unwrap(),
        Write::Refused
    );
    assert!(app.store.thread(b).await.unwrap().is_none(), "the refused thread was not written");
    assert!(app.store.messages(b, 10, PageStart::NewestBefore(None)).await.unwrap().messages.is_empty());
    assert_eq!(app.store.client(client.client_id).await.unwrap().unwrap().open_thread_id, Some(a));
}

#[tokio::test]
async fn closed_threads_take_no_messages() {
    let app = testing::app().await;
    let client = testing::client(app).await;
    let t = app.store.next_id(IdKind::Thread).await.unwrap();
    let first = app.store.next_id(IdKind::Message).await.unwrap();
    let open = thread(t, client.client_id);
    assert_eq!(
        app.store.open_thread(&open, Some(&message(first, t, client.client_id)), &Alongside::default()).await.unwrap(),
        Write::Done
    );
    assert_eq!(app.store.close_thread(&open).await.unwrap(), Write::Done);
    assert_eq!(app.store.close_thread(&open).await.unwrap(), Write::Refused);
    let late = app.store.next_id(IdKind::Message).await.unwrap();
    assert_eq!(
        app.store.append_message(&message(late, t, client.client_id), &Alongside::default()).await.unwrap(),
        Write::Refused
    );
    let stored = app.store.thread(t).await.unwrap().unwrap();
    assert_eq!((stored.status, stored.message_count), (ThreadStatus::Closed, 1));
    assert_eq!(app.store.client(client.client_id).await.unwrap().unwrap().open_thread_id, None);
}

#[tokio::test]
async fn message_pages_are_newest_first_and_end() {
    let app = testing::app().await;
    let client = testing::client(app).await;
    let t = app.store.next_id(IdKind::Thread).await.unwrap();
    let mut ids = vec![app.store.next_id(IdKind::Message).await.unwrap()];
    assert_eq!(
        app.store
            .open_thread(
                &thread(t, client.client_id),
                Some(&message(ids[0], t, client.client_id)),
                &Alongside::default()
            )
            .await
            .unwrap(),
        Write::Done
    );
    for _ in 0..4 {
        let id = app.store.next_id(IdKind::Message).await.unwrap();
        assert_eq!(
            app.store.append_message(&message(id, t, client.client_id), &Alongside::default()).await.unwrap(),
            Write::Done
        );
        ids.push(id);
    }
    ids.reverse();
    let first = app.store.messages(t, 3, PageStart::NewestBefore(None)).await.unwrap();
    let got: Vec<u64> = first.messages.iter().map(|m| m.message_id).collect();
    assert_eq!(got, ids[..3]);
    assert_eq!(first.next.map(|position| position.message_id), Some(ids[2]));
    let rest = app.store.messages(t, 3, PageStart::NewestBefore(first.next)).await.unwrap();
    let got: Vec<u64> = rest.messages.iter().map(|m| m.message_id).collect();
    assert_eq!((got.as_slice(), rest.next), (&ids[3..], None));
    let exact = app.store.messages(t, 5, PageStart::NewestBefore(None)).await.unwrap();
    assert_eq!((exact.messages.len(), exact.next), (5, None));
}

#[tokio::test]
async fn messages_list_in_the_order_they_were_accepted_whatever_their_ids() {
    let app = testing::app().await;
    let client = testing::client(app).await;
    let t = app.store.next_id(IdKind::Thread).await.unwrap();
    // Ids from two containers' blocks: the later message has the smaller id.
    let (early, late) = (9_000_000 + app.store.next_id(IdKind::Message).await.unwrap(), 7);
    let first = message(early, t, client.client_id);
    let opened = app.store.open_thread(&thread(t, client.client_id), Some(&first), &Alongside::default()).await;
    assert_eq!(opened.unwrap(), Write::Done);
    tokio::time::sleep(Duration::from_millis(2)).await;
    let second = message(late, t, client.client_id);
    assert_eq!(app.store.append_message(&second, &Alongside::default()).await.unwrap(), Write::Done);

    let oldest_first = app.store.messages(t, 10, PageStart::OldestAfter(None)).await.unwrap();
    let ids: Vec<u64> = oldest_first.messages.iter().map(|m| m.message_id).collect();
    assert_eq!(ids, [early, late]);
    let after_first =
        app.store.messages(t, 10, PageStart::OldestAfter(Some(MessagePosition::of(&first)))).await.unwrap();
    assert_eq!(after_first.messages.iter().map(|m| m.message_id).collect::<Vec<_>>(), [late]);
    let newest_first = app.store.messages(t, 10, PageStart::NewestBefore(None)).await.unwrap();
    assert_eq!(newest_first.messages.iter().map(|m| m.message_id).collect::<Vec<_>>(), [late, early]);

    let (found_thread, found) = app.store.thread_with_message(t, early).await.unwrap().unwrap();
    assert_eq!((found_thread.thread_id, found.map(|m| m.message_id)), (t, Some(early)));
    let (_, missing) = app.store.thread_with_message(t, 123_456_789).await.unwrap().unwrap();
    assert!(missing.is_none());
    assert!(app.store.thread_with_message(u64::from(u32::MAX) * 1000, early).await.unwrap().is_none());
}

#[tokio::test]
async fn each_container_reserves_its_own_block_of_ids() {
    let one = testing::app().await;
    let other = testing::app().await; // another container: its own store and blocks
    let a = one.store.next_id(IdKind::Message).await.unwrap();
    let b = other.store.next_id(IdKind::Message).await.unwrap();
    let a2 = one.store.next_id(IdKind::Message).await.unwrap();
    assert_eq!(a2, a + 1, "the next id of a block costs no request");
    assert!(b.abs_diff(a) >= one.config.id_block - 1, "blocks do not overlap: {a} {b}");
}

#[tokio::test]
async fn idempotency_keys_move_from_claimed_to_completed() {
    let app = testing::app().await;
    let key = testing::unique("record");
    let lease = Duration::from_secs(30);
    assert_eq!(app.store.claim_key(&key, "hash-a", "a", lease).await.unwrap(), KeyClaim::Claimed);
    assert_eq!(app.store.claim_key(&key, "hash-a", "a2", lease).await.unwrap(), KeyClaim::InProgress);
    assert_eq!(app.store.claim_key(&key, "hash-b", "b", lease).await.unwrap(), KeyClaim::Mismatch);
    app.store.release_key(&key, "a").await.unwrap();
    assert_eq!(app.store.claim_key(&key, "hash-b", "b", lease).await.unwrap(), KeyClaim::Claimed);

    // Completion is written together with the work.
    let result = r#"{"id":1}"#.to_owned();
    assert_eq!(write_completing(app, &completed_key(&key, "hash-b", "b", &result)).await, Write::Done);
    assert_eq!(app.store.claim_key(&key, "hash-b", "c", lease).await.unwrap(), KeyClaim::Completed(result));
    app.store.release_key(&key, "b").await.unwrap();
    assert!(
        matches!(app.store.claim_key(&key, "hash-b", "c", lease).await.unwrap(), KeyClaim::Completed(_)),
        "completed keys stay"
    );
}

fn completed_key(record_key: &str, request_hash: &str, owner: &str, result: &str) -> CompletedKey {
    CompletedKey {
        record_key: record_key.to_owned(),
        request_hash: request_hash.into(),
        owner: owner.into(),
        result: result.to_owned(),
    }
}

/// Opens a thread with a first message for a fresh client, completing `key` in the same
/// transaction; whether it was written.
async fn write_completing(app: &shared::App, key: &CompletedKey) -> Write {
    let client = testing::client(app).await;
    let t = app.store.next_id(IdKind::Thread).await.unwrap();
    let m = app.store.next_id(IdKind::Message).await.unwrap();
    let write = app
        .store
        .open_thread(
            &thread(t, client.client_id),
            Some(&message(m, t, client.client_id)),
            &Alongside { key: Some(key), ..Alongside::default() },
        )
        .await
        .unwrap();
    let stored = app.store.thread(t).await.unwrap();
    assert_eq!(stored.is_some(), write == Write::Done, "the work is written exactly when the key is completed");
    write
}

#[tokio::test]
async fn an_abandoned_claim_can_be_taken_over_after_its_lease() {
    let app = testing::app().await;
    let key = testing::unique("record");
    assert_eq!(app.store.claim_key(&key, "h", "first", Duration::ZERO).await.unwrap(), KeyClaim::Claimed);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(app.store.claim_key(&key, "h", "second", Duration::from_secs(30)).await.unwrap(), KeyClaim::Claimed);
}

#[tokio::test]
async fn a_claim_taken_over_is_neither_released_nor_completed_by_its_first_holder() {
    let app = testing::app().await;
    let key = testing::unique("record");
    let lease = Duration::from_secs(30);
    assert_eq!(app.store.claim_key(&key, "h", "first", Duration::ZERO).await.unwrap(), KeyClaim::Claimed);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(app.store.claim_key(&key, "h", "second", lease).await.unwrap(), KeyClaim::Claimed);

    // The first request, late, fails: its release leaves the second one's claim alone.
    app.store.release_key(&key, "first").await.unwrap();
    assert_eq!(app.store.claim_key(&key, "h", "third", lease).await.unwrap(), KeyClaim::InProgress);
    // Or it succeeds late: its work is refused, and the key stays the second one's.
    assert_eq!(write_completing(app, &completed_key(&key, "h", "first", r#"{"id":1}"#)).await, Write::Refused);
    assert_eq!(app.store.claim_key(&key, "h", "third", lease).await.unwrap(), KeyClaim::InProgress);

    let result = r#"{"id":2}"#;
    assert_eq!(write_completing(app, &completed_key(&key, "h", "second", result)).await, Write::Done);
    assert_eq!(app.store.claim_key(&key, "h", "third", lease).await.unwrap(), KeyClaim::Completed(result.into()));
}

/// The raw item under `pk`/`sk`, read past the store (to see what it keeps out of the model).
async fn raw_item(pk: &str, sk: &str) -> Option<HashMap<String, AttributeValue>> {
    let endpoint = std::env::var("DYNAMODB_ENDPOINT").expect("DYNAMODB_ENDPOINT");
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("local", "local", None, None, "local"))
        .region(Region::new("us-east-1"))
        .load()
        .await;
    let output = aws_sdk_dynamodb::Client::new(&config)
        .get_item()
        .table_name(std::env::var("TABLE_NAME").expect("TABLE_NAME"))
        .key("pk", AttributeValue::S(pk.into()))
        .key("sk", AttributeValue::S(sk.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    output.item
}

#[tokio::test]
async fn a_login_nobody_has_locks_expires_and_stays_free_for_an_agent() {
    let app = testing::app().await;
    let nobody = testing::unique("nobody");
    let lock_until = Timestamp::now() + Duration::from_secs(900);
    for _ in 0..5 {
        app.store.record_failed_login(&nobody, 5, lock_until).await.unwrap();
    }
    let locked = app.store.record_failed_login(&nobody, 5, lock_until).await;
    assert!(matches!(locked, Err(Error::RateLimited { retry_after_secs: 1..=900 })), "{locked:?}");
    assert!(app.store.agent_for_login(&nobody).await.unwrap().is_none(), "a count is not an agent");
    let counter = raw_item(&format!("LOGIN#{nobody}"), "LOGIN").await.expect("the count is kept");
    let expires_at: i64 = counter["expiresAt"].as_n().unwrap().parse().unwrap();
    assert!(expires_at >= lock_until.as_second(), "the TTL outlasts the lock");
    assert!(!counter.contains_key("agentId") && !counter.contains_key("entity"), "{counter:?}");

    // The name is still free; the agent starts without the guesser's count, lock or TTL, and its
    // failures never give its login a TTL.
    let agent = credentials::register_agent(&app.store, &nobody, Role::Operator, testing::PASSWORD).await.unwrap();
    let (found, failed) = app.store.agent_for_login(&nobody).await.unwrap().unwrap();
    assert_eq!((found.agent_id, failed), (agent.agent_id, FailedLogins::default()));
    app.store.record_failed_login(&nobody, 5, lock_until).await.unwrap();
    assert_eq!(app.store.agent_for_login(&nobody).await.unwrap().unwrap().1.count, 1);
    let login = raw_item(&format!("LOGIN#{nobody}"), "LOGIN").await.unwrap();
    assert!(login.contains_key("agentId") && !login.contains_key("expiresAt"), "{login:?}");
}
