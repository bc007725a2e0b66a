//! The bucket: content-addressed blobs and small JSON records, over
//! `object_store`'s S3 client (SigV4, path-style, any S3-compatible endpoint).
//!
//! `object_store` was chosen over `aws-sdk-s3`: it does everything the
//! builder needs (HEAD, GET, PUT, multipart upload with bounded parts,
//! custom endpoints with plain HTTP for loopback tests, session tokens) and
//! shares reqwest/rustls with the imager, at a fraction of the SDK's build.
//!
//! Blobs are immutable: an upload is skipped when the key already holds an
//! object of the right size (the key is its digest). Files of
//! [`MULTIPART_THRESHOLD`] bytes or more are sent as a multipart upload in
//! parts of [`PART_SIZE`], so memory stays bounded (one part in flight per
//! upload, plus [`MAX_PARTS_IN_FLIGHT`] being sent) whatever the artifact's
//! size; smaller files are one PUT.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt as _, PutPayload, WriteMultipart};
use tokio::io::AsyncReadExt as _;

use crate::config::Config;

/// Files at least this large are uploaded in parts.
pub const MULTIPART_THRESHOLD: u64 = 16 * 1024 * 1024;
/// The size of each part of a multipart upload (S3's minimum is 5 MiB; at
/// 16 MiB, S3's 10 000-part limit allows 156 GiB).
pub const PART_SIZE: usize = 16 * 1024 * 1024;
/// Parts of one upload sent concurrently.
pub const MAX_PARTS_IN_FLIGHT: usize = 4;
/// The largest record read back ([`factory_core::record::MAX_RECORD_LEN`] for
/// assets; installer answers are bounded by the dispatch body limit).
pub const MAX_RECORD_READ: u64 = factory_core::dispatch::MAX_DISPATCH_BODY as u64;

/// A storage failure (the builder answers 503: retry later).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The client could not be configured.
    #[error("configuring the S3 client: {0}")]
    Config(String),
    /// A request to the bucket failed.
    #[error("{action} s3://{bucket}/{key}: {reason}")]
    Request {
        /// What was being done.
        action: &'static str,
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// Why.
        reason: String,
    },
    /// A local file could not be read.
    #[error("reading {path}: {source}")]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A record is larger than [`MAX_RECORD_READ`].
    #[error("s3://{bucket}/{key} is {size} bytes, more than a record may be")]
    TooLarge {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// Its size.
        size: u64,
    },
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct Bucket {
    store: Arc<dyn ObjectStore>,
    name: String,
}

impl Bucket {
    /// The bucket of `config` (no request is made).
    pub fn open(config: &Config) -> Result<Bucket, StoreError> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_access_key_id(&config.credentials.access_key_id)
            .with_secret_access_key(&config.credentials.secret_access_key);
        if let Some(token) = &config.credentials.session_token {
            builder = builder.with_token(token);
        }
        if let Some(endpoint) = &config.s3_endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        let store = builder
            .build()
            .map_err(|e| StoreError::Config(e.to_string()))?;
        Ok(Bucket {
            store: Arc::new(store),
            name: config.bucket.clone(),
        })
    }

    fn error(
        &self,
        action: &'static str,
        key: &str,
    ) -> impl FnOnce(object_store::Error) -> StoreError {
        let (bucket, key) = (self.name.clone(), key.to_owned());
        move |e| StoreError::Request {
            action,
            bucket,
            key,
            reason: e.to_string(),
        }
    }

    /// The size of the object at `key`, or `None` if there is none.
    pub async fn size(&self, key: &str) -> Result<Option<u64>, StoreError> {
        match self.store.head(&ObjectPath::from(key)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.error("HEAD", key)(e)),
        }
    }

    /// The small object at `key` (at most [`MAX_RECORD_READ`] bytes), or
    /// `None` if there is none.
    pub async fn get_record(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        let result = match self.store.get(&ObjectPath::from(key)).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.error("GET", key)(e)),
        };
        if result.meta.size > MAX_RECORD_READ {
            return Err(StoreError::TooLarge {
                bucket: self.name.clone(),
                key: key.to_owned(),
                size: result.meta.size,
            });
        }
        result
            .bytes()
            .await
            .map(Some)
            .map_err(self.error("GET", key))
    }

    /// Puts a small object.
    pub async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), StoreError> {
        self.store
            .put(&ObjectPath::from(key), PutPayload::from(bytes))
            .await
            .map(drop)
            .map_err(self.error("PUT", key))
    }

    /// Uploads the `size`-byte file at `path` to `key` unless an object of
    /// that size is there already; returns whether it uploaded.
    pub async fn upload_file(&self, key: &str, path: &Path, size: u64) -> Result<bool, StoreError> {
        if self.size(key).await? == Some(size) {
            return Ok(false);
        }
        let file_error = |source| StoreError::File {
            path: path.to_owned(),
            source,
        };
        if size < MULTIPART_THRESHOLD {
            let bytes = tokio::fs::read(path).await.map_err(file_error)?;
            self.put_bytes(key, Bytes::from(bytes)).await?;
            return Ok(true);
        }
        let location = ObjectPath::from(key);
        let upload = self
            .store
            .put_multipart(&location)
            .await
            .map_err(self.error("starting a multipart upload of", key))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut file = tokio::fs::File::open(path).await.map_err(file_error)?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = match file.read(&mut buf).await {
                Ok(n) => n,
                Err(source) => {
                    let _ = writer.abort().await;
                    return Err(file_error(source));
                }
            };
            let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
                break;
            };
            if let Err(e) = writer.wait_for_capacity(MAX_PARTS_IN_FLIGHT).await {
                return Err(self.error("uploading a part of", key)(e));
            }
            writer.write(chunk);
        }
        writer
            .finish()
            .await
            .map(drop)
            .map_err(self.error("completing the multipart upload of", key))?;
        Ok(true)
    }
}
