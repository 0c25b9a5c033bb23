//! How web chat's items are stored: a visitor token under its hash, and a connection under its
//! id and again under its client. `expiresAt` is the table's TTL attribute (epoch seconds).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::core::webchat::{Connection, Visitor};
use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VisitorRecord {
    pub token_hash: String,
    pub client_id: u64,
    pub device_address: String,
    pub expires_at: i64,
}

impl From<&Visitor> for VisitorRecord {
    fn from(visitor: &Visitor) -> Self {
        VisitorRecord {
            token_hash: visitor.token_hash.clone(),
            client_id: visitor.client_id,
            device_address: visitor.device_address.clone(),
            expires_at: visitor.expires_at.as_second(),
        }
    }
}

impl TryFrom<VisitorRecord> for Visitor {
    type Error = Error;

    fn try_from(record: VisitorRecord) -> Result<Visitor> {
        Ok(Visitor {
            token_hash: record.token_hash,
            client_id: record.client_id,
            device_address: record.device_address,
            expires_at: epoch(record.expires_at)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionRecord {
    pub connection_id: String,
    pub client_id: u64,
    pub device_address: String,
    pub connected_at: Timestamp,
    pub expires_at: i64,
}

impl From<&Connection> for ConnectionRecord {
    fn from(connection: &Connection) -> Self {
        ConnectionRecord {
            connection_id: connection.connection_id.clone(),
            client_id: connection.client_id,
            device_address: connection.device_address.clone(),
            connected_at: connection.connected_at,
            expires_at: connection.expires_at.as_second(),
        }
    }
}

impl TryFrom<ConnectionRecord> for Connection {
    type Error = Error;

    fn try_from(record: ConnectionRecord) -> Result<Connection> {
        Ok(Connection {
            connection_id: record.connection_id,
            client_id: record.client_id,
            device_address: record.device_address,
            connected_at: record.connected_at,
            expires_at: epoch(record.expires_at)?,
        })
    }
}

fn epoch(seconds: i64) -> Result<Timestamp> {
    Timestamp::from_second(seconds).map_err(Error::internal)
}
