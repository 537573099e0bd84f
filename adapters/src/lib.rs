//! IronBucket's storage layer: S3 semantics (buckets, objects with metadata, listing,
//! multipart uploads) over OpenDAL's fs and memory services, and the storage runtime bridge
//! through which the gateway's monoio cores reach it.
//!
//! # Bridge
//!
//! OpenDAL's fs service needs a tokio reactor and panics on a monoio thread, so every OpenDAL
//! call runs on one multi-thread tokio runtime that [`StorageRuntime`] owns. Cores hold a
//! [`StorageClient`] and await its methods from any executor: calls travel as jobs over a
//! bounded `tokio::sync::mpsc` queue, results return on `tokio::sync::oneshot`, and bodies
//! flow as [`bytes::Bytes`] chunks over bounded channels ([`ObjectBody`], [`PutHandle`]).
//! [`Storage`] is the backend trait behind the bridge; [`StorageRuntime::start_with`]
//! accepts other implementations.
//!
//! # Layout
//!
//! S3 keys are not file paths: `a` and `a/b` can both be objects, and keys may end in `/`,
//! contain `//` or `..`, or be 1024 bytes long. The store therefore keeps small JSON records
//! that point to immutable data blobs. All paths are relative to the backend root:
//!
//! | path | content |
//! | --- | --- |
//! | `_buckets/<bucket>` | bucket record: name, tenant, creation time |
//! | `<bucket>/<name>` | object record: key, size, ETag, metadata, headers, list of blobs |
//! | `_blobs/<xx>/<id>` | object or part data, named by a random 128-bit id (`xx` = its first two hex digits) |
//! | `_uploads/<bucket>/<upload id>` | multipart upload record: key, initiation time, metadata |
//! | `_parts/<bucket>/<upload id>/<nnnnn>` | part record: MD5, size, blob |
//! | `_tmp/` | the fs service's temporary files, renamed into place when complete |
//!
//! Bucket names cannot start with `_`, so internal directories never collide with buckets.
//! `<name>` is the key percent-encoded with only ASCII letters, digits, `-` and `_` left as
//! they are, so it is never `.` or `..` and has no `/`. A key whose encoding exceeds 200
//! bytes gets `~<encoded start of the key>~<hex SHA-256 of the key>` instead, and the full key
//! is read from its record.
//!
//! A write streams into a new blob (on fs, a temporary file renamed into place) while the MD5
//! is computed, then writes the object record with one atomic rename. A reader sees the old
//! record or the new one, and a blob never changes after it is written, so a reader never sees
//! a mixed or partial object. Replaced blobs are deleted after the record swap, or by the last
//! reader still streaming them. Completing a multipart upload writes a record that lists the
//! part blobs in order, so completion copies no data.
//!
//! Commits are ordered by in-process locks, so one process owns a root at a time.
//!
//! NOTE: a crash between writing a blob and writing the record that references it, or
//! between a record swap and the deletion of the replaced blobs, leaves unreferenced blobs
//! under `_blobs/`, and a crash during a write leaves its temporary file under `_tmp/`. The
//! fs backend empties `_tmp/` when it opens; nothing sweeps unreferenced blobs yet.
//!
//! NOTE: OpenDAL 0.55's fs service syncs a file before renaming it into place but does not
//! sync the directory afterwards, so a power failure right after a commit can undo that
//! commit.

#![forbid(unsafe_code)]

mod bridge;
mod chunking;
mod config;
mod error;
mod layout;
mod storage;
mod store;
mod types;

pub use bridge::{ObjectBody, PutHandle, StorageClient, StorageRuntime};
pub use config::{Backend, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, S3_MIN_PART_SIZE, StorageConfig};
pub use error::{ErrorKind, StorageError};
pub use layout::{MAX_KEY_LEN, MAX_PART_NUMBER};
pub use storage::{ByteRange, ObjectStream, ObjectWrite, Storage, StorageResult};
pub use types::{
    BucketInfo, Capabilities, ListPage, ListQuery, MAX_LIST_KEYS, NewObject, ObjectEntry,
    ObjectMeta, PartInfo, PartsPage, StandardHeaders, UploadInfo, UploadsPage,
};
