//! Web chat's visitor tokens and connections.

use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};

use super::{DynamoStore, decode, entity, s};
use crate::core::model::{Client, Device};
use crate::core::webchat::{Connection, Visitor};
use crate::store::attributes as attr;
use crate::store::records::DeviceRecord;
use crate::store::webchat_records::{ConnectionRecord, VisitorRecord};
use crate::store::{VisitorStore, Write, keys};
use crate::{Error, Result};

impl DynamoStore {
    fn delete_item(&self, (pk, sk): (String, String)) -> Result<TransactWriteItem> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .key(attr::PK.name(), s(&pk))
            .key(attr::SK.name(), s(&sk))
            .build()
            .map_err(Error::internal)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }
}

impl VisitorStore for DynamoStore {
    async fn create_visitor(
        &self,
        visitor: &Visitor,
        device: Option<&Device>,
        new_client: Option<&Client>,
    ) -> Result<Write> {
        let mut items = Vec::new();
        if let Some(client) = new_client {
            items.extend(self.client_items(client)?);
        }
        if let Some(device) = device {
            let key = keys::device(device.channel_type, None, &device.device_address);
            items.push(self.put_new(entity(key, "DEVICE", &DeviceRecord::from(device))?)?);
        }
        let token = entity(keys::visitor(&visitor.token_hash), "VISITOR", &VisitorRecord::from(visitor))?;
        items.push(self.put_new(token)?);
        self.transact(items).await
    }

    async fn visitor(&self, token_hash: &str) -> Result<Option<Visitor>> {
        self.get_as::<VisitorRecord>(keys::visitor(token_hash)).await?.map(Visitor::try_from).transpose()
    }

    async fn add_connection(&self, connection: &Connection) -> Result<()> {
        let record = ConnectionRecord::from(connection);
        let id = &connection.connection_id;
        let items = vec![
            self.put_new(entity(keys::connection(id), "CONNECTION", &record)?)?,
            self.put_new(entity(keys::client_connection(connection.client_id, id), "CONNECTION", &record)?)?,
        ];
        match self.transact(items).await? {
            Write::Done => Ok(()),
            // API Gateway's connection ids are unique: a second connect with one is ours to fix.
            Write::Refused => Err(Error::internal(format!("connection {id} was already recorded"))),
        }
    }

    async fn connection(&self, connection_id: &str) -> Result<Option<Connection>> {
        self.get_as::<ConnectionRecord>(keys::connection(connection_id)).await?.map(Connection::try_from).transpose()
    }

    async fn connections_of(&self, client_id: u64) -> Result<Vec<Connection>> {
        let (pk, _) = keys::client(client_id);
        // Consistent: a page that has just connected must get the next push.
        let items = self.items_with_prefix(&pk, keys::CONNECTION_PREFIX).await?;
        items.into_iter().map(|item| Connection::try_from(decode::<ConnectionRecord>(item)?)).collect()
    }

    async fn remove_connection(&self, connection_id: &str, client_id: u64) -> Result<()> {
        let items = vec![
            self.delete_item(keys::connection(connection_id))?,
            self.delete_item(keys::client_connection(client_id, connection_id))?,
        ];
        // Deletes hold no condition: a transaction of them is refused only by a concurrent one.
        let _ = self.transact(items).await?;
        Ok(())
    }
}
