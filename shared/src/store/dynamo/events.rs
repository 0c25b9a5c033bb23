//! Events: one `EVENT#<id>` item each, found by id (a status event reads its message's
//! sequence there) and, through the sparse `feed` index, by the day and time it was recorded.

use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;

use super::{DynamoStore, Item, decode, entity, s, storage_error};
use crate::Result;
use crate::store::attributes as attr;
use crate::store::webhook_records::{EVENT_RETENTION, EventRecord, feed_day, sortable};
use crate::store::{EventPage, EventStore, FeedPosition, RecordedEvent, keys};

/// The most day partitions one page of the feed walks through.
const MAX_DAYS_PER_PAGE: usize = 32;
pub const FEED_INDEX: &str = "feed";

fn next_day(day: &str) -> Option<String> {
    let date: jiff::civil::Date = day.parse().ok()?;
    Some(date.tomorrow().ok()?.strftime("%Y-%m-%d").to_string())
}

impl EventStore for DynamoStore {
    async fn record_event(&self, event: &RecordedEvent) -> Result<RecordedEvent> {
        let item = entity(keys::event(&event.event_id), "EVENT", &EventRecord::from(event))?;
        match self.put_if_absent(item).await? {
            None => Ok(event.clone()),
            Some(recorded) => Ok(decode::<EventRecord>(recorded)?.into()),
        }
    }

    async fn event(&self, event_id: &str) -> Result<Option<RecordedEvent>> {
        Ok(self.get_as::<EventRecord>(keys::event(event_id)).await?.map(RecordedEvent::from))
    }

    async fn events_after(&self, after: Option<&FeedPosition>, before: Timestamp, limit: usize) -> Result<EventPage> {
        let last_day = feed_day(before);
        let bound = sortable(before);
        let (mut day, mut from) = match after {
            Some(position) => (position.day.clone(), Some(position.key.clone()).filter(|key| !key.is_empty())),
            None => (feed_day(before - EVENT_RETENTION), None),
        };
        let mut events = Vec::new();
        for _ in 0..MAX_DAYS_PER_PAGE {
            let mut start: Option<Item> = None;
            loop {
                let lower = from.clone().map(|key| format!("{key}~"));
                let condition = match &lower {
                    // `~` sorts after every character of a key: strictly after `from`.
                    Some(_) => "#day = :day AND #key BETWEEN :from AND :to",
                    None => "#day = :day AND #key < :to",
                };
                let mut query = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(FEED_INDEX)
                    .key_condition_expression(condition)
                    .expression_attribute_names("#day", attr::FEED_DAY.name())
                    .expression_attribute_names("#key", attr::FEED_KEY.name())
                    .expression_attribute_values(":day", s(&day))
                    .expression_attribute_values(":to", s(&bound))
                    .limit((limit - events.len()) as i32)
                    .set_exclusive_start_key(start.take());
                if let Some(lower) = &lower {
                    query = query.expression_attribute_values(":from", AttributeValue::S(lower.clone()));
                }
                let output = query.send().await.map_err(storage_error)?;
                for item in output.items.unwrap_or_default() {
                    let record = decode::<EventRecord>(item)?;
                    from = Some(record.feed_key.clone());
                    events.push(RecordedEvent::from(record));
                }
                if events.len() >= limit {
                    return Ok(EventPage { events, next: from.map(|key| FeedPosition { day, key }) });
                }
                match output.last_evaluated_key {
                    Some(key) => start = Some(key),
                    None => break,
                }
            }
            if day >= last_day {
                break;
            }
            let Some(tomorrow) = next_day(&day) else { break };
            day = tomorrow;
            from = None;
        }
        // Caught up (or walked as far as one page may): continue from here next time.
        let key = from.unwrap_or_default();
        Ok(EventPage { events, next: Some(FeedPosition { day, key }) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_days_are_utc_days_and_follow_each_other() {
        let at: Timestamp = "2026-12-31T23:59:59.9Z".parse().unwrap();
        assert_eq!(feed_day(at), "2026-12-31");
        assert_eq!(next_day("2026-12-31").as_deref(), Some("2027-01-01"));
    }
}
