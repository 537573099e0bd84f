//! Bucket operations of the store: create, head, list and delete.

use std::time::SystemTime;

use futures_util::{StreamExt, TryStreamExt};

use super::records::BucketRecord;
use super::{Inner, LIST_READ_CONCURRENCY, encode_record};
use crate::error::{ErrorKind, StorageError};
use crate::layout;
use crate::storage::StorageResult;
use crate::types::BucketInfo;

impl Inner {
    /// Reads the record of `bucket`.
    pub(crate) async fn read_bucket(
        &self,
        operation: &'static str,
        bucket: &str,
    ) -> StorageResult<Option<BucketRecord>> {
        self.read_record(operation, &layout::bucket_record(bucket))
            .await
            .map_err(|error| error.with_bucket(bucket))
    }

    /// Fails with `NoSuchBucket` unless `bucket` exists.
    pub(crate) async fn require_bucket(
        &self,
        operation: &'static str,
        bucket: &str,
    ) -> StorageResult<BucketRecord> {
        self.read_bucket(operation, bucket).await?.ok_or_else(|| {
            StorageError::new(
                ErrorKind::NoSuchBucket,
                operation,
                "the bucket does not exist",
            )
            .with_bucket(bucket)
        })
    }

    pub(crate) async fn create_bucket(
        &self,
        name: &str,
        tenant: &str,
    ) -> StorageResult<BucketInfo> {
        const OPERATION: &str = "create_bucket";
        layout::validate_bucket_name(OPERATION, name)?;
        let already_exists = || {
            StorageError::new(
                ErrorKind::BucketAlreadyExists,
                OPERATION,
                "a bucket with this name already exists",
            )
            .with_bucket(name)
        };
        let _guard = self.locks.bucket(name).write().await;
        if self.read_bucket(OPERATION, name).await?.is_some() {
            return Err(already_exists());
        }
        let record = BucketRecord {
            name: name.to_owned(),
            tenant: tenant.to_owned(),
            created: SystemTime::now(),
        };
        let data = encode_record(OPERATION, &record)?;
        // The lock orders creations inside this process; the conditional write, where the
        // backend has one, also catches a bucket created behind the process's back.
        let written = self
            .op
            .write_with(&layout::bucket_record(name), data)
            .if_not_exists(self.conditional_create)
            .await;
        match written {
            Ok(_) => Ok(record.info()),
            Err(error) if error.kind() == opendal::ErrorKind::ConditionNotMatch => {
                Err(already_exists())
            }
            Err(error) => Err(StorageError::backend(OPERATION, error).with_bucket(name)),
        }
    }

    pub(crate) async fn head_bucket(&self, name: &str) -> StorageResult<BucketInfo> {
        const OPERATION: &str = "head_bucket";
        layout::validate_bucket_name(OPERATION, name)?;
        Ok(self.require_bucket(OPERATION, name).await?.info())
    }

    pub(crate) async fn list_buckets(&self) -> StorageResult<Vec<BucketInfo>> {
        const OPERATION: &str = "list_buckets";
        let names = self.list_file_names(OPERATION, layout::BUCKETS_DIR).await?;
        let records: Vec<Option<BucketRecord>> = futures_util::stream::iter(
            names
                .into_iter()
                .filter(|name| layout::validate_bucket_name(OPERATION, name).is_ok()),
        )
        .map(|name| async move { self.read_bucket(OPERATION, &name).await })
        .buffered(LIST_READ_CONCURRENCY)
        .try_collect()
        .await?;
        // A bucket deleted during the listing has no record any more and is left out.
        let mut buckets: Vec<BucketInfo> = records
            .into_iter()
            .flatten()
            .map(|record| record.info())
            .collect();
        buckets.sort_by(|left, right| left.name.cmp(&right.name));
        Ok(buckets)
    }

    pub(crate) async fn delete_bucket(&self, name: &str) -> StorageResult<()> {
        const OPERATION: &str = "delete_bucket";
        layout::validate_bucket_name(OPERATION, name)?;
        let _guard = self.locks.bucket(name).write().await;
        self.require_bucket(OPERATION, name).await?;
        if self.has_file(OPERATION, &layout::object_dir(name)).await? {
            return Err(StorageError::new(
                ErrorKind::BucketNotEmpty,
                OPERATION,
                "the bucket contains objects",
            )
            .with_bucket(name));
        }
        for upload_id in self
            .list_file_names(OPERATION, &layout::upload_dir(name))
            .await?
        {
            if !layout::is_valid_id(&upload_id) {
                continue;
            }
            if let Some(upload) = self.read_upload(OPERATION, name, &upload_id).await? {
                self.discard_upload(OPERATION, name, &upload).await?;
            }
        }
        self.delete_path(OPERATION, &layout::bucket_record(name))
            .await
            .map_err(|error| error.with_bucket(name))?;
        self.remove_empty_dir(&layout::object_dir(name)).await;
        self.remove_empty_dir(&layout::upload_dir(name)).await;
        self.remove_empty_dir(&layout::part_bucket_dir(name)).await;
        Ok(())
    }
}
