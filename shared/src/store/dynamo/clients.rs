//! Clients, their unique external ids, and devices.

use aws_sdk_dynamodb::types::TransactWriteItem;

use super::{DynamoStore, Key, NamePointer, entity, keyed};
use crate::Result;
use crate::core::model::{ChannelType, Client, Device};
use crate::store::records::{ClientRecord, DeviceRecord};
use crate::store::{ClientStore, Write, keys};

impl DynamoStore {
    /// The client and the items that make its external ids unique, all required to be new.
    pub(super) fn client_items(&self, client: &Client) -> Result<Vec<TransactWriteItem>> {
        let pointer = NamePointer { client_id: Some(client.client_id), ..NamePointer::default() };
        let record = ClientRecord::from(client);
        let mut items = vec![self.put_new(entity(keys::client(client.client_id), "CLIENT", &record)?)?];
        if let Some(external_id) = &client.external_id {
            items.push(self.put_new(keyed(keys::external_id(external_id), &pointer)?)?);
        }
        if let Some(unauthorized_id) = &client.unauthorized_id {
            items.push(self.put_new(keyed(keys::unauthorized_id(unauthorized_id), &pointer)?)?);
        }
        Ok(items)
    }

    async fn client_by_pointer(&self, key: Key) -> Result<Option<Client>> {
        let Some(pointer) = self.get_as::<NamePointer>(key).await? else { return Ok(None) };
        let Some(client_id) = pointer.client_id else { return Ok(None) };
        self.client(client_id).await
    }
}

impl ClientStore for DynamoStore {
    async fn create_client(&self, client: &Client) -> Result<Write> {
        self.transact(self.client_items(client)?).await
    }

    async fn client(&self, client_id: u64) -> Result<Option<Client>> {
        Ok(self.get_as::<ClientRecord>(keys::client(client_id)).await?.map(Client::from))
    }

    async fn client_by_external_id(&self, external_id: &str) -> Result<Option<Client>> {
        self.client_by_pointer(keys::external_id(external_id)).await
    }

    async fn client_by_unauthorized_id(&self, unauthorized_id: &str) -> Result<Option<Client>> {
        self.client_by_pointer(keys::unauthorized_id(unauthorized_id)).await
    }

    async fn device(&self, channel: ChannelType, app_marker: Option<&str>, address: &str) -> Result<Option<Device>> {
        Ok(self.get_as::<DeviceRecord>(keys::device(channel, app_marker, address)).await?.map(Device::from))
    }
}
