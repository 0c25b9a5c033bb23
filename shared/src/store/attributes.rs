//! Attribute names and enum spellings that condition and update expressions use. They are the
//! serde names of the fields of the stored records ([`super::records`]); the tests below fail
//! when a rename of a record's field would silently break an expression.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;

/// An attribute of a stored item, used in expressions through its `#name` placeholder (so
/// reserved words such as `status` need no special care).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr(&'static str);

impl Attr {
    pub const fn name(self) -> &'static str {
        self.0
    }

    /// `#name`: how expressions refer to the attribute.
    pub fn placeholder(self) -> String {
        format!("#{}", self.0)
    }
}

// Keys and bookkeeping.
pub const PK: Attr = Attr("pk");
pub const SK: Attr = Attr("sk");
/// The item's kind (`AGENT`, `CLIENT`, ...), for scans by the operator's command.
pub const ENTITY: Attr = Attr("entity");
/// TTL attribute (epoch seconds) of the table.
pub const EXPIRES_AT: Attr = Attr("expiresAt");

// Counters.
pub const COUNTER_VALUE: Attr = Attr("value");

// Logins (`LOGIN#` items). Only a real login's item carries `agentId`.
pub const AGENT_ID: Attr = Attr("agentId");
pub const FAILED_LOGINS: Attr = Attr("failedLogins");
pub const LOCKED_UNTIL: Attr = Attr("lockedUntil");

// Clients, devices and threads (fields of `ClientRecord`, `DeviceRecord`, `ThreadRecord`).
pub const OPEN_THREAD_ID: Attr = Attr("openThreadId");
pub const CLIENT_ID: Attr = Attr("clientId");
pub const STATUS: Attr = Attr("status");
pub const LAST_MESSAGE_TIME: Attr = Attr("lastMessageTime");
pub const MESSAGE_COUNT: Attr = Attr("messageCount");
pub const MESSAGE_ID: Attr = Attr("messageId");
pub const LAST_MESSAGE_ID: Attr = Attr("lastMessageId");
pub const CLOSED_AT: Attr = Attr("closedAt");

// A message's delivery status (fields of `MessageRecord`; `status` is `STATUS`).
pub const STATUS_RANK: Attr = Attr("statusRank");
pub const STATUS_AT: Attr = Attr("statusAt");
pub const SENT_AT: Attr = Attr("sentAt");
pub const DELIVERED_AT: Attr = Attr("deliveredAt");
pub const READ_AT: Attr = Attr("readAt");
pub const FAILED_AT: Attr = Attr("failedAt");
pub const ERROR_CODE: Attr = Attr("errorCode");
pub const ERROR_MESSAGE: Attr = Attr("errorMessage");

// Idempotency records.
pub const STATE: Attr = Attr("state");
pub const REQUEST_HASH: Attr = Attr("requestHash");
pub const LEASE_UNTIL: Attr = Attr("leaseUntil");
/// The random token of the request holding the claim.
pub const OWNER: Attr = Attr("owner");

// Webhook subscriptions and their deliveries (fields of `SubscriptionRecord`, `DispatchRecord`).
pub const SECRETS: Attr = Attr("secrets");
pub const ATTEMPTS: Attr = Attr("attempts");
pub const LAST_RESPONSE_STATUS: Attr = Attr("lastResponseStatus");
pub const LAST_ERROR: Attr = Attr("lastError");
pub const LAST_ATTEMPT_AT: Attr = Attr("lastAttemptAt");
pub const NEXT_ATTEMPT_AT: Attr = Attr("nextAttemptAt");
/// The sparse `due` index: set on pending deliveries only.
pub const DUE_WEBHOOK: Attr = Attr("dueWebhook");
pub const DUE_AT: Attr = Attr("dueAt");
/// The sparse `feed` index: set on events only.
pub const FEED_DAY: Attr = Attr("feedDay");
pub const FEED_KEY: Attr = Attr("feedKey");

/// The stored spelling of an enum value (`StoredStatus::Open` → `"OPEN"`), from its serde form.
pub fn spelling<T: Serialize>(value: T) -> AttributeValue {
    serde_dynamo::to_attribute_value(value).unwrap_or(AttributeValue::Null(true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{ChannelType, Client, Device, Message, Thread, ThreadStatus};
    use crate::store::records::{ClientRecord, DeviceRecord, MessageRecord, StoredStatus, ThreadRecord};
    use jiff::Timestamp;
    use serde_dynamo::aws_sdk_dynamodb_1::to_item;
    use std::collections::HashMap;

    fn fields<T: Serialize>(value: &T) -> HashMap<String, AttributeValue> {
        to_item(value).unwrap()
    }

    #[test]
    fn expression_attributes_are_fields_of_the_records() {
        let now = Timestamp::now();
        let thread = Thread {
            thread_id: 1,
            client_id: 2,
            status: ThreadStatus::Open,
            start_time: now,
            last_message_time: now,
            message_count: 1,
        };
        let thread = fields(&ThreadRecord::from(&thread));
        for attr in [STATUS, LAST_MESSAGE_TIME, MESSAGE_COUNT, CLIENT_ID] {
            assert!(thread.contains_key(attr.name()), "thread has no {attr:?}");
        }
        let client = Client {
            client_id: 1,
            external_id: None,
            unauthorized_id: None,
            display_name: None,
            open_thread_id: Some(3),
            created_at: now,
        };
        assert!(fields(&ClientRecord::from(&client)).contains_key(OPEN_THREAD_ID.name()));
        let device = Device {
            channel_type: ChannelType::Sms,
            device_address: "+100000".into(),
            app_marker: None,
            client_id: 1,
            created_at: now,
        };
        assert!(fields(&DeviceRecord::from(&device)).contains_key(CLIENT_ID.name()));
        let message = Message { message_id: 1, ..Default::default() };
        assert!(fields(&MessageRecord::from(&message)).contains_key(MESSAGE_ID.name()));
    }

    #[test]
    fn enum_spellings_come_from_serde() {
        assert_eq!(spelling(StoredStatus::from(ThreadStatus::Open)), AttributeValue::S("OPEN".into()));
        assert_eq!(spelling(StoredStatus::from(ThreadStatus::Closed)), AttributeValue::S("CLOSED".into()));
    }
}
