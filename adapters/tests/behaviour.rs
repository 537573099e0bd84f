//! The behaviour suite: every storage operation through a [`StorageClient`], run against the
//! memory backend and the fs backend in a temporary directory. Each case is awaited on a
//! plain `futures` executor, so the suite also proves the client needs no tokio context.

mod support;

use std::collections::HashSet;

use bytes::Bytes;
use futures::future::join_all;
use ironbucket_adapters::{ErrorKind, ListQuery, NewObject, StandardHeaders};
use support::{
    Context, Kind, TEST_CHUNK, TEST_MIN_PART, blob_count_is, get, kind_of, md5_hex, pattern, put,
    put_pieces, run_case, storage_is_clean, upload_part,
};

/// Generates one test per case and backend, named `memory::case` and `fs::case`.
macro_rules! behaviour_suite {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[test]
                fn $case() {
                    super::run_case(super::Kind::Memory, super::cases::$case);
                }
            )*
        }
        mod fs {
            $(
                #[test]
                fn $case() {
                    super::run_case(super::Kind::Fs, super::cases::$case);
                }
            )*
        }
    };
}

behaviour_suite!(
    bucket_lifecycle,
    bucket_names_are_validated,
    delete_bucket_requires_empty,
    delete_bucket_discards_uploads,
    object_round_trip_keeps_metadata,
    tricky_keys_round_trip,
    long_key_is_rejected,
    missing_objects_and_buckets,
    overwrite_replaces_object,
    bad_digest_stores_nothing,
    length_mismatch_stores_nothing,
    dropped_put_leaves_nothing,
    concurrent_puts_never_mix,
    large_streaming_round_trip,
    ranged_get_returns_slice,
    invalid_range_is_rejected,
    listing_prefix_and_delimiter,
    listing_pages_with_one_key,
    listing_zero_max_keys,
    listing_common_prefix_pages,
    listing_start_after_is_exclusive,
    listing_long_keys,
    copy_keeps_or_replaces_metadata,
    copy_onto_itself_replaces,
    copy_errors_name_missing,
    multipart_round_trip,
    multipart_order_errors,
    multipart_part_errors,
    multipart_too_small_parts,
    multipart_upload_id_checks,
    multipart_part_reupload_replaces,
    multipart_abort_removes_parts,
    multipart_listings_page,
    reader_survives_concurrent_delete,
);

mod cases {
    use super::*;

    const BUCKET: &str = "test-bucket";

    async fn bucket(context: &Context) {
        context
            .client
            .create_bucket(BUCKET, "tenant-a")
            .await
            .expect("create the test bucket");
    }

    pub async fn bucket_lifecycle(context: Context) {
        let client = &context.client;
        let created = client.create_bucket("zeta", "tenant-a").await;
        assert!(created.is_ok());
        assert!(client.create_bucket("alpha", "tenant-b").await.is_ok());
        let again = client.create_bucket("zeta", "tenant-b").await;
        assert_eq!(kind_of(again), Some(ErrorKind::BucketAlreadyExists));
        let head = client.head_bucket("zeta").await.expect("head zeta");
        assert_eq!(head.tenant, "tenant-a");
        let names: Vec<String> = client
            .list_buckets()
            .await
            .expect("list buckets")
            .into_iter()
            .map(|bucket| bucket.name)
            .collect();
        assert_eq!(names, vec!["alpha", "zeta"]);
        assert!(client.delete_bucket("zeta").await.is_ok());
        let gone = client.head_bucket("zeta").await;
        assert_eq!(kind_of(gone), Some(ErrorKind::NoSuchBucket));
        let twice = client.delete_bucket("zeta").await;
        assert_eq!(kind_of(twice), Some(ErrorKind::NoSuchBucket));
        assert!(client.create_bucket("zeta", "tenant-c").await.is_ok());
    }

    pub async fn bucket_names_are_validated(context: Context) {
        let client = &context.client;
        for name in [
            "ab", "_tmp", "Upper", "a..b", "../x", "a/b", "10.0.0.1", "-ab",
        ] {
            let result = client.create_bucket(name, "tenant").await;
            assert_eq!(
                kind_of(result),
                Some(ErrorKind::InvalidBucketName),
                "name {name}"
            );
        }
    }

    pub async fn delete_bucket_requires_empty(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        put(client, BUCKET, "a/b", b"x").await.expect("put a/b");
        let refused = client.delete_bucket(BUCKET).await;
        assert_eq!(kind_of(refused), Some(ErrorKind::BucketNotEmpty));
        client
            .delete_object(BUCKET, "a/b")
            .await
            .expect("delete a/b");
        assert!(client.delete_bucket(BUCKET).await.is_ok());
        assert!(storage_is_clean(&context));
    }

    pub async fn delete_bucket_discards_uploads(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        let upload = client
            .create_multipart(BUCKET, "big", NewObject::default())
            .await
            .expect("create upload");
        upload_part(client, BUCKET, "big", &upload, 1, &pattern(1000, 1))
            .await
            .expect("upload part");
        assert!(client.delete_bucket(BUCKET).await.is_ok());
        assert!(storage_is_clean(&context));
        bucket(&context).await;
        let uploads = client
            .list_multipart_uploads(BUCKET, "", None, None, 100)
            .await
            .expect("list uploads");
        assert!(uploads.uploads.is_empty());
        let stale = client.list_parts(BUCKET, "big", &upload, None, 100).await;
        assert_eq!(kind_of(stale), Some(ErrorKind::NoSuchUpload));
    }

    pub async fn object_round_trip_keeps_metadata(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        let object = NewObject {
            content_type: Some("text/plain".to_owned()),
            user_metadata: vec![
                ("color".to_owned(), "blue".to_owned()),
                ("Äpfel".to_owned(), "süß".to_owned()),
            ],
            headers: StandardHeaders {
                cache_control: Some("no-cache".to_owned()),
                content_disposition: Some("attachment".to_owned()),
                content_encoding: Some("gzip".to_owned()),
                content_language: Some("de".to_owned()),
                expires: Some("Wed, 21 Oct 2015 07:28:00 GMT".to_owned()),
            },
            content_length: Some(11),
        };
        let put_meta = put_pieces(client, BUCKET, "doc.txt", b"hello world", object.clone(), 3)
            .await
            .expect("put doc.txt");
        assert_eq!(put_meta.etag, md5_hex(b"hello world"));
        let stat = client.stat_object(BUCKET, "doc.txt").await.expect("stat");
        assert_eq!(stat, put_meta);
        assert_eq!(stat.size, 11);
        assert_eq!(stat.content_type, object.content_type);
        assert_eq!(stat.user_metadata, object.user_metadata);
        assert_eq!(stat.headers, object.headers);
        assert_eq!(stat.parts_count, None);
        let (meta, data) = get(client, BUCKET, "doc.txt", None).await.expect("get");
        assert_eq!(data, b"hello world");
        assert_eq!(meta, stat);
        let empty = put(client, BUCKET, "empty", b"").await.expect("put empty");
        assert_eq!(empty.etag, md5_hex(b""));
        let (_, data) = get(client, BUCKET, "empty", None).await.expect("get empty");
        assert!(data.is_empty());
    }

    pub async fn tricky_keys_round_trip(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        let long_key = format!("{}end", "k/".repeat(510));
        assert_eq!(long_key.len(), 1023);
        let max_key = "é".repeat(512);
        assert_eq!(max_key.len(), 1024);
        let keys = vec![
            "a".to_owned(),
            "a/b".to_owned(),
            "a/".to_owned(),
            "a//b".to_owned(),
            "../escape".to_owned(),
            "./.".to_owned(),
            "..".to_owned(),
            "%2F%".to_owned(),
            "~tilde".to_owned(),
            "日本/語".to_owned(),
            " space\ttab\nnewline".to_owned(),
            long_key,
            max_key,
        ];
        for (index, key) in keys.iter().enumerate() {
            let data = pattern(100 + index, index as u8);
            put(client, BUCKET, key, &data)
                .await
                .unwrap_or_else(|error| panic!("put {key:?}: {error}"));
        }
        for (index, key) in keys.iter().enumerate() {
            let (meta, data) = get(client, BUCKET, key, None)
                .await
                .unwrap_or_else(|error| panic!("get {key:?}: {error}"));
            assert_eq!(&meta.key, key);
            assert_eq!(data, pattern(100 + index, index as u8), "key {key:?}");
        }
        let page = client
            .list_objects(BUCKET, ListQuery::default())
            .await
            .expect("list");
        let listed: Vec<String> = page.objects.iter().map(|entry| entry.key.clone()).collect();
        let mut expected = keys.clone();
        expected.sort();
        assert_eq!(listed, expected);
        if let Some(root) = &context.root {
            assert!(!root.join("escape").exists());
            assert!(!root.join("test-bucket").join("a").join("b").exists());
        }
    }

    pub async fn long_key_is_rejected(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        let key = "k".repeat(1025);
        let result = client.put_object(BUCKET, &key, NewObject::default()).await;
        assert_eq!(kind_of(result), Some(ErrorKind::KeyTooLong));
        let empty = client.put_object(BUCKET, "", NewObject::default()).await;
        assert_eq!(kind_of(empty), Some(ErrorKind::InvalidArgument));
    }

    pub async fn missing_objects_and_buckets(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        let missing_key = client.stat_object(BUCKET, "nope").await;
        assert_eq!(kind_of(missing_key), Some(ErrorKind::NoSuchKey));
        let missing_get = get(client, BUCKET, "nope", None).await;
        assert_eq!(kind_of(missing_get), Some(ErrorKind::NoSuchKey));
        let missing_bucket = client.stat_object("no-bucket", "nope").await;
        assert_eq!(kind_of(missing_bucket), Some(ErrorKind::NoSuchBucket));
        assert!(client.delete_object(BUCKET, "nope").await.is_ok());
        let delete_in_missing = client.delete_object("no-bucket", "nope").await;
        assert_eq!(kind_of(delete_in_missing), Some(ErrorKind::NoSuchBucket));
        let put_in_missing = client
            .put_object("no-bucket", "k", NewObject::default())
            .await;
        assert_eq!(kind_of(put_in_missing), Some(ErrorKind::NoSuchBucket));
        let list_missing = client.list_objects("no-bucket", ListQuery::default()).await;
        assert_eq!(kind_of(list_missing), Some(ErrorKind::NoSuchBucket));
    }

    pub async fn overwrite_replaces_object(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        put(client, BUCKET, "k", b"first").await.expect("put first");
        put(client, BUCKET, "k", b"second!")
            .await
            .expect("put second");
        let (meta, data) = get(client, BUCKET, "k", None).await.expect("get");
        assert_eq!(data, b"second!");
        assert_eq!(meta.etag, md5_hex(b"second!"));
        assert!(blob_count_is(&context, 1));
        client.delete_object(BUCKET, "k").await.expect("delete");
        assert!(storage_is_clean(&context));
    }

    pub async fn bad_digest_stores_nothing(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        put(client, BUCKET, "k", b"old").await.expect("put old");
        let mut handle = client
            .put_object(BUCKET, "k", NewObject::default())
            .await
            .expect("start put");
        handle
            .send(Bytes::from_static(b"new body"))
            .await
            .expect("send");
        let result = handle.commit(Some([0u8; 16])).await;
        assert_eq!(kind_of(result), Some(ErrorKind::BadDigest));
        let (_, data) = get(client, BUCKET, "k", None).await.expect("get");
        assert_eq!(data, b"old");
        let mut handle = client
            .put_object(BUCKET, "fresh", NewObject::default())
            .await
            .expect("start put");
        handle.send(Bytes::from_static(b"abc")).await.expect("send");
        let digest: [u8; 16] = {
            use md5::Digest;
            md5::Md5::digest(b"abc").into()
        };
        assert!(handle.commit(Some(digest)).await.is_ok());
        assert!(blob_count_is(&context, 2));
    }

    pub async fn length_mismatch_stores_nothing(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        let short = NewObject {
            content_length: Some(10),
            ..NewObject::default()
        };
        let result = put_pieces(client, BUCKET, "short", b"12345", short, 2).await;
        assert_eq!(kind_of(result), Some(ErrorKind::IncompleteBody));
        let missing = client.stat_object(BUCKET, "short").await;
        assert_eq!(kind_of(missing), Some(ErrorKind::NoSuchKey));
        let long = NewObject {
            content_length: Some(3),
            ..NewObject::default()
        };
        let result = put_pieces(client, BUCKET, "long", &pattern(200_000, 3), long, 70_000).await;
        assert_eq!(kind_of(result), Some(ErrorKind::InvalidArgument));
        let missing = client.stat_object(BUCKET, "long").await;
        assert_eq!(kind_of(missing), Some(ErrorKind::NoSuchKey));
        assert!(storage_is_clean(&context));
    }

    pub async fn dropped_put_leaves_nothing(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        let mut handle = client
            .put_object(BUCKET, "dropped", NewObject::default())
            .await
            .expect("start put");
        for _ in 0..8 {
            handle
                .send(Bytes::from(pattern(TEST_CHUNK, 9)))
                .await
                .expect("send");
        }
        drop(handle);
        let stat = client.stat_object(BUCKET, "dropped").await;
        assert_eq!(kind_of(stat), Some(ErrorKind::NoSuchKey));
        assert!(storage_is_clean(&context));
        let page = client
            .list_objects(BUCKET, ListQuery::default())
            .await
            .expect("list");
        assert!(page.objects.is_empty());
    }

    pub async fn concurrent_puts_never_mix(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        const WRITERS: u8 = 6;
        const SIZE: usize = 300_000;
        let writers = (0..WRITERS).map(|seed| async move {
            put_pieces(
                client,
                BUCKET,
                "contended",
                &pattern(SIZE, seed),
                NewObject::default(),
                40_000,
            )
            .await
        });
        let readers = (0..WRITERS).map(|_| async move {
            match get(client, BUCKET, "contended", None).await {
                Ok((meta, data)) => Some((meta.etag, data)),
                Err(error) => {
                    assert_eq!(error.kind(), ErrorKind::NoSuchKey);
                    None
                }
            }
        });
        let (written, read) = futures::join!(join_all(writers), join_all(readers));
        let versions: Vec<_> = written
            .into_iter()
            .map(|result| result.expect("every put commits"))
            .collect();
        let etags: HashSet<String> = versions.iter().map(|meta| meta.etag.clone()).collect();
        for (etag, data) in read.into_iter().flatten() {
            assert_eq!(md5_hex(&data), etag, "a reader saw a mixed object");
            assert!(etags.contains(&etag));
        }
        let last = versions
            .iter()
            .max_by_key(|meta| meta.last_modified)
            .expect("six versions");
        let (meta, data) = get(client, BUCKET, "contended", None).await.expect("get");
        assert_eq!(meta.etag, last.etag);
        assert_eq!(md5_hex(&data), last.etag);
        assert!(blob_count_is(&context, 1));
    }

    pub async fn large_streaming_round_trip(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        let data = pattern(10 * 1024 * 1024, 5);
        let object = NewObject {
            content_length: Some(data.len() as u64),
            ..NewObject::default()
        };
        let meta = put_pieces(client, BUCKET, "big", &data, object, 100_003)
            .await
            .expect("put 10 MiB");
        assert_eq!(meta.etag, md5_hex(&data));
        let (_, mut body) = client
            .get_object(BUCKET, "big", None)
            .await
            .expect("get 10 MiB");
        let mut received = Vec::with_capacity(data.len());
        let mut sizes = Vec::new();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.expect("chunk");
            sizes.push(chunk.len());
            received.extend_from_slice(&chunk);
        }
        assert_eq!(received.len(), data.len());
        assert!(received == data, "the body differs from what was written");
        let (last, full) = sizes.split_last().expect("chunks");
        assert!(full.iter().all(|size| *size == TEST_CHUNK));
        assert!(*last <= TEST_CHUNK);
    }

    pub async fn ranged_get_returns_slice(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        let data = pattern(300_000, 8);
        put(client, BUCKET, "r", &data).await.expect("put");
        for (start, end) in [
            (0, 0),
            (0, 9),
            (65_530, 65_545),
            (299_999, 299_999),
            (1, 299_998),
        ] {
            let (meta, slice) = get(client, BUCKET, "r", Some((start, end)))
                .await
                .expect("ranged get");
            assert_eq!(meta.size, 300_000);
            assert_eq!(
                slice,
                &data[start as usize..=end as usize],
                "range {start}-{end}"
            );
        }
    }

    pub async fn invalid_range_is_rejected(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        put(client, BUCKET, "r", b"0123456789").await.expect("put");
        let beyond = get(client, BUCKET, "r", Some((5, 10))).await;
        assert_eq!(kind_of(beyond), Some(ErrorKind::InvalidRange));
        let reversed = get(client, BUCKET, "r", Some((5, 4))).await;
        assert_eq!(kind_of(reversed), Some(ErrorKind::InvalidRange));
        put(client, BUCKET, "empty", b"").await.expect("put empty");
        let on_empty = get(client, BUCKET, "empty", Some((0, 0))).await;
        assert_eq!(kind_of(on_empty), Some(ErrorKind::InvalidRange));
    }

    async fn put_keys(context: &Context, keys: &[&str]) {
        for key in keys {
            put(&context.client, BUCKET, key, key.as_bytes())
                .await
                .expect("put key");
        }
    }

    fn query(
        prefix: &str,
        delimiter: Option<&str>,
        start_after: Option<&str>,
        max: usize,
    ) -> ListQuery {
        ListQuery {
            prefix: prefix.to_owned(),
            delimiter: delimiter.map(str::to_owned),
            start_after: start_after.map(str::to_owned),
            max_keys: max,
        }
    }

    pub async fn listing_prefix_and_delimiter(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        put_keys(&context, &["a", "a/b", "a/c/d", "a/", "b/x", "bz", "c"]).await;
        let page = client
            .list_objects(BUCKET, query("", Some("/"), None, 1000))
            .await
            .expect("list root");
        let keys: Vec<&str> = page
            .objects
            .iter()
            .map(|entry| entry.key.as_str())
            .collect();
        assert_eq!(keys, vec!["a", "bz", "c"]);
        assert_eq!(page.common_prefixes, vec!["a/", "b/"]);
        assert!(!page.is_truncated);
        let page = client
            .list_objects(BUCKET, query("a/", Some("/"), None, 1000))
            .await
            .expect("list a/");
        let keys: Vec<&str> = page
            .objects
            .iter()
            .map(|entry| entry.key.as_str())
            .collect();
        assert_eq!(keys, vec!["a/", "a/b"]);
        assert_eq!(page.common_prefixes, vec!["a/c/"]);
        let page = client
            .list_objects(BUCKET, query("b", None, None, 1000))
            .await
            .expect("list b");
        let keys: Vec<&str> = page
            .objects
            .iter()
            .map(|entry| entry.key.as_str())
            .collect();
        assert_eq!(keys, vec!["b/x", "bz"]);
        let entry = &page.objects[1];
        assert_eq!(entry.size, 2);
        assert_eq!(entry.etag, md5_hex(b"bz"));
        let page = client
            .list_objects(BUCKET, query("", Some("c/"), None, 1000))
            .await
            .expect("list with a two-byte delimiter");
        assert_eq!(page.common_prefixes, vec!["a/c/"]);
    }

    pub async fn listing_pages_with_one_key(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        let all = ["a", "b", "c", "é", "日"];
        put_keys(&context, &all).await;
        let mut seen = Vec::new();
        let mut start_after = None;
        for _ in 0..10 {
            let page = client
                .list_objects(BUCKET, query("", None, start_after.as_deref(), 1))
                .await
                .expect("list page");
            assert!(page.objects.len() <= 1);
            seen.extend(page.objects.iter().map(|entry| entry.key.clone()));
            if !page.is_truncated {
                assert_eq!(page.next_start_after, None);
                break;
            }
            start_after = page.next_start_after.clone();
        }
        assert_eq!(seen, all);
    }

    pub async fn listing_zero_max_keys(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        put_keys(&context, &["a", "b"]).await;
        let page = client
            .list_objects(BUCKET, query("", None, None, 0))
            .await
            .expect("list");
        assert!(page.objects.is_empty());
        assert!(page.common_prefixes.is_empty());
        assert!(!page.is_truncated);
    }

    pub async fn listing_common_prefix_pages(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        put_keys(&context, &["a/1", "a/2", "a/3", "b", "c/1", "c/2", "d"]).await;
        let mut objects = Vec::new();
        let mut prefixes = Vec::new();
        let mut start_after = None;
        let mut pages = 0;
        loop {
            let page = client
                .list_objects(BUCKET, query("", Some("/"), start_after.as_deref(), 1))
                .await
                .expect("list page");
            pages += 1;
            assert_eq!(page.objects.len() + page.common_prefixes.len(), 1);
            objects.extend(page.objects.iter().map(|entry| entry.key.clone()));
            prefixes.extend(page.common_prefixes.iter().cloned());
            if !page.is_truncated {
                break;
            }
            start_after = page.next_start_after.clone();
            assert!(pages < 10, "paging does not end");
        }
        assert_eq!(objects, vec!["b", "d"]);
        assert_eq!(prefixes, vec!["a/", "c/"]);
        assert_eq!(pages, 4);
        let page = client
            .list_objects(BUCKET, query("", Some("/"), None, 2))
            .await
            .expect("list two");
        assert_eq!(page.next_start_after.as_deref(), Some("b"));
    }

    pub async fn listing_start_after_is_exclusive(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        put_keys(&context, &["a", "ab", "b"]).await;
        let page = client
            .list_objects(BUCKET, query("", None, Some("a"), 1000))
            .await
            .expect("list");
        let keys: Vec<&str> = page
            .objects
            .iter()
            .map(|entry| entry.key.as_str())
            .collect();
        assert_eq!(keys, vec!["ab", "b"]);
        let page = client
            .list_objects(BUCKET, query("", None, Some("zzz"), 1000))
            .await
            .expect("list past the end");
        assert!(page.objects.is_empty());
    }

    pub async fn listing_long_keys(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        let first = format!("long/{}", "a".repeat(900));
        let second = format!("long/{}", "b".repeat(900));
        let other = format!("other/{}", "c".repeat(900));
        put_keys(&context, &[&second, &first, &other, "long/short"]).await;
        let page = client
            .list_objects(BUCKET, query("long/", None, None, 1000))
            .await
            .expect("list long/");
        let keys: Vec<&str> = page
            .objects
            .iter()
            .map(|entry| entry.key.as_str())
            .collect();
        assert_eq!(keys, vec![first.as_str(), second.as_str(), "long/short"]);
        let page = client
            .list_objects(BUCKET, query("", Some("/"), None, 1000))
            .await
            .expect("list root");
        assert_eq!(page.common_prefixes, vec!["long/", "other/"]);
    }

    pub async fn copy_keeps_or_replaces_metadata(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        client
            .create_bucket("other-bucket", "tenant-a")
            .await
            .expect("create other bucket");
        let source = NewObject {
            content_type: Some("image/png".to_owned()),
            user_metadata: vec![("a".to_owned(), "1".to_owned())],
            ..NewObject::default()
        };
        let data = pattern(200_000, 2);
        put_pieces(client, BUCKET, "src", &data, source.clone(), 64_000)
            .await
            .expect("put source");
        let copied = client
            .copy_object(BUCKET, "src", "other-bucket", "dst", None)
            .await
            .expect("copy");
        assert_eq!(copied.etag, md5_hex(&data));
        assert_eq!(copied.content_type, source.content_type);
        assert_eq!(copied.user_metadata, source.user_metadata);
        let (_, read) = get(client, "other-bucket", "dst", None)
            .await
            .expect("get copy");
        assert!(read == data);
        let replacement = NewObject {
            content_type: Some("text/plain".to_owned()),
            ..NewObject::default()
        };
        let replaced = client
            .copy_object(BUCKET, "src", BUCKET, "dst2", Some(replacement))
            .await
            .expect("copy with replace");
        assert_eq!(replaced.content_type.as_deref(), Some("text/plain"));
        assert!(replaced.user_metadata.is_empty());
        client
            .delete_object(BUCKET, "src")
            .await
            .expect("delete source");
        let (_, read) = get(client, "other-bucket", "dst", None)
            .await
            .expect("get copy");
        assert!(read == data, "the copy depends on its source");
    }

    pub async fn copy_onto_itself_replaces(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        let data = pattern(150_000, 4);
        put(client, BUCKET, "self", &data).await.expect("put");
        let replacement = NewObject {
            user_metadata: vec![("state".to_owned(), "replaced".to_owned())],
            ..NewObject::default()
        };
        let meta = client
            .copy_object(BUCKET, "self", BUCKET, "self", Some(replacement.clone()))
            .await
            .expect("copy onto itself");
        assert_eq!(meta.user_metadata, replacement.user_metadata);
        let (stat, read) = get(client, BUCKET, "self", None).await.expect("get");
        assert_eq!(stat.user_metadata, replacement.user_metadata);
        assert!(read == data);
        assert!(blob_count_is(&context, 1));
    }

    pub async fn copy_errors_name_missing(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        let missing = client
            .copy_object(BUCKET, "nope", BUCKET, "dst", None)
            .await;
        assert_eq!(kind_of(missing), Some(ErrorKind::NoSuchKey));
        put(client, BUCKET, "src", b"x").await.expect("put");
        let no_bucket = client
            .copy_object(BUCKET, "src", "no-bucket", "dst", None)
            .await;
        assert_eq!(kind_of(no_bucket), Some(ErrorKind::NoSuchBucket));
        assert!(blob_count_is(&context, 1));
    }

    async fn upload_three_parts(
        context: &Context,
        key: &str,
    ) -> (String, Vec<(u32, String)>, Vec<u8>) {
        let client = &context.client;
        let object = NewObject {
            content_type: Some("application/x-test".to_owned()),
            user_metadata: vec![("origin".to_owned(), "multipart".to_owned())],
            ..NewObject::default()
        };
        let upload = client
            .create_multipart(BUCKET, key, object)
            .await
            .expect("create upload");
        let sizes = [TEST_MIN_PART as usize, TEST_MIN_PART as usize + 1000, 777];
        let mut parts = Vec::new();
        let mut whole = Vec::new();
        for (index, size) in sizes.iter().enumerate() {
            let number = index as u32 + 1;
            let data = pattern(*size, number as u8);
            let meta = upload_part(client, BUCKET, key, &upload, number, &data)
                .await
                .expect("upload part");
            assert_eq!(meta.etag, md5_hex(&data));
            parts.push((number, format!("\"{}\"", meta.etag)));
            whole.extend_from_slice(&data);
        }
        (upload, parts, whole)
    }

    pub async fn multipart_round_trip(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        let (upload, parts, whole) = upload_three_parts(&context, "mp").await;
        let listed = client
            .list_parts(BUCKET, "mp", &upload, None, 1000)
            .await
            .expect("list parts");
        let numbers: Vec<u32> = listed.parts.iter().map(|part| part.part_number).collect();
        assert_eq!(numbers, vec![1, 2, 3]);
        let meta = client
            .complete_multipart(BUCKET, "mp", &upload, parts.clone())
            .await
            .expect("complete");
        let mut digest_of_digests = Vec::new();
        for (_, etag) in &parts {
            digest_of_digests.extend(hex::decode(etag.trim_matches('"')).expect("hex etag"));
        }
        assert_eq!(meta.etag, format!("{}-3", md5_hex(&digest_of_digests)));
        assert_eq!(meta.parts_count, Some(3));
        assert_eq!(meta.size, whole.len() as u64);
        assert_eq!(meta.content_type.as_deref(), Some("application/x-test"));
        let (stat, data) = get(client, BUCKET, "mp", None).await.expect("get");
        assert_eq!(stat.etag, meta.etag);
        assert!(data == whole, "the assembled object differs");
        let boundary = TEST_MIN_PART - 5;
        let (_, slice) = get(client, BUCKET, "mp", Some((boundary, boundary + 2000)))
            .await
            .expect("ranged get across parts");
        assert_eq!(
            slice,
            &whole[boundary as usize..=(boundary + 2000) as usize]
        );
        let gone = client.list_parts(BUCKET, "mp", &upload, None, 10).await;
        assert_eq!(kind_of(gone), Some(ErrorKind::NoSuchUpload));
        let uploads = client
            .list_multipart_uploads(BUCKET, "", None, None, 10)
            .await
            .expect("list uploads");
        assert!(uploads.uploads.is_empty());
        let copy = client
            .copy_object(BUCKET, "mp", BUCKET, "mp-copy", None)
            .await
            .expect("copy a multipart object");
        assert_eq!(copy.etag, md5_hex(&whole));
        assert!(blob_count_is(&context, 4));
        client.delete_object(BUCKET, "mp").await.expect("delete");
        client
            .delete_object(BUCKET, "mp-copy")
            .await
            .expect("delete");
        assert!(storage_is_clean(&context));
    }

    pub async fn multipart_order_errors(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        let (upload, parts, _) = upload_three_parts(&context, "mp").await;
        let reversed: Vec<_> = parts.iter().rev().cloned().collect();
        let result = client
            .complete_multipart(BUCKET, "mp", &upload, reversed)
            .await;
        assert_eq!(kind_of(result), Some(ErrorKind::InvalidPartOrder));
        let duplicated = vec![parts[0].clone(), parts[0].clone()];
        let result = client
            .complete_multipart(BUCKET, "mp", &upload, duplicated)
            .await;
        assert_eq!(kind_of(result), Some(ErrorKind::InvalidPartOrder));
        let empty = client
            .complete_multipart(BUCKET, "mp", &upload, Vec::new())
            .await;
        assert_eq!(kind_of(empty), Some(ErrorKind::InvalidArgument));
        assert!(
            client
                .complete_multipart(BUCKET, "mp", &upload, parts)
                .await
                .is_ok()
        );
    }

    pub async fn multipart_part_errors(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        let (upload, parts, _) = upload_three_parts(&context, "mp").await;
        let wrong_etag = vec![parts[0].clone(), (2, md5_hex(b"other"))];
        let result = client
            .complete_multipart(BUCKET, "mp", &upload, wrong_etag)
            .await;
        assert_eq!(kind_of(result), Some(ErrorKind::InvalidPart));
        let missing = vec![parts[0].clone(), (7, parts[1].1.clone())];
        let result = client
            .complete_multipart(BUCKET, "mp", &upload, missing)
            .await;
        assert_eq!(kind_of(result), Some(ErrorKind::InvalidPart));
        for number in [0, 10_001] {
            let result = client
                .upload_part(BUCKET, "mp", &upload, number, None)
                .await;
            assert_eq!(
                kind_of(result),
                Some(ErrorKind::InvalidArgument),
                "part {number}"
            );
        }
        let subset = vec![parts[0].clone(), parts[2].clone()];
        let meta = client
            .complete_multipart(BUCKET, "mp", &upload, subset)
            .await
            .expect("complete with parts 1 and 3");
        assert_eq!(meta.parts_count, Some(2));
        assert!(blob_count_is(&context, 2));
    }

    pub async fn multipart_too_small_parts(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        let upload = client
            .create_multipart(BUCKET, "small", NewObject::default())
            .await
            .expect("create upload");
        let first = upload_part(client, BUCKET, "small", &upload, 1, &pattern(1000, 1))
            .await
            .expect("part 1");
        let second = upload_part(client, BUCKET, "small", &upload, 2, &pattern(1000, 2))
            .await
            .expect("part 2");
        let parts = vec![(1, first.etag.clone()), (2, second.etag)];
        let result = client
            .complete_multipart(BUCKET, "small", &upload, parts)
            .await;
        assert_eq!(kind_of(result), Some(ErrorKind::EntityTooSmall));
        let single = client
            .complete_multipart(BUCKET, "small", &upload, vec![(1, first.etag)])
            .await;
        assert!(single.is_ok(), "a small last part is allowed");
    }

    pub async fn multipart_upload_id_checks(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        let upload = client
            .create_multipart(BUCKET, "key", NewObject::default())
            .await
            .expect("create upload");
        assert_eq!(upload.len(), 32);
        let other = client
            .create_multipart(BUCKET, "key", NewObject::default())
            .await
            .expect("create second upload");
        assert_ne!(upload, other);
        for bad in [
            "../../_buckets/test-bucket",
            "",
            "0123",
            &upload.to_uppercase(),
        ] {
            let result = client.upload_part(BUCKET, "key", bad, 1, None).await;
            assert_eq!(kind_of(result), Some(ErrorKind::NoSuchUpload), "id {bad:?}");
        }
        let wrong_key = client
            .upload_part(BUCKET, "other-key", &upload, 1, None)
            .await;
        assert_eq!(kind_of(wrong_key), Some(ErrorKind::NoSuchUpload));
        let wrong_key = client.abort_multipart(BUCKET, "other-key", &upload).await;
        assert_eq!(kind_of(wrong_key), Some(ErrorKind::NoSuchUpload));
        let wrong_key = client
            .complete_multipart(BUCKET, "other-key", &upload, vec![(1, md5_hex(b""))])
            .await;
        assert_eq!(kind_of(wrong_key), Some(ErrorKind::NoSuchUpload));
        assert!(client.abort_multipart(BUCKET, "key", &upload).await.is_ok());
        let aborted = client.abort_multipart(BUCKET, "key", &upload).await;
        assert_eq!(kind_of(aborted), Some(ErrorKind::NoSuchUpload));
        let missing_bucket = client
            .create_multipart("no-bucket", "key", NewObject::default())
            .await;
        assert_eq!(kind_of(missing_bucket), Some(ErrorKind::NoSuchBucket));
    }

    pub async fn multipart_part_reupload_replaces(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        let upload = client
            .create_multipart(BUCKET, "re", NewObject::default())
            .await
            .expect("create upload");
        let old = upload_part(client, BUCKET, "re", &upload, 1, b"old part")
            .await
            .expect("first part 1");
        let new = upload_part(client, BUCKET, "re", &upload, 1, b"new part!")
            .await
            .expect("second part 1");
        let listed = client
            .list_parts(BUCKET, "re", &upload, None, 10)
            .await
            .expect("list parts");
        assert_eq!(listed.parts.len(), 1);
        assert_eq!(listed.parts[0].etag, new.etag);
        assert_eq!(listed.parts[0].size, 9);
        let stale = client
            .complete_multipart(BUCKET, "re", &upload, vec![(1, old.etag)])
            .await;
        assert_eq!(kind_of(stale), Some(ErrorKind::InvalidPart));
        assert!(blob_count_is(&context, 1));
        client
            .complete_multipart(BUCKET, "re", &upload, vec![(1, new.etag)])
            .await
            .expect("complete");
        let (_, data) = get(client, BUCKET, "re", None).await.expect("get");
        assert_eq!(data, b"new part!");
    }

    pub async fn multipart_abort_removes_parts(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        let (upload, _, _) = upload_three_parts(&context, "ab").await;
        assert!(blob_count_is(&context, 3));
        client
            .abort_multipart(BUCKET, "ab", &upload)
            .await
            .expect("abort");
        assert!(storage_is_clean(&context));
        let listed = client.list_parts(BUCKET, "ab", &upload, None, 10).await;
        assert_eq!(kind_of(listed), Some(ErrorKind::NoSuchUpload));
        let stat = client.stat_object(BUCKET, "ab").await;
        assert_eq!(kind_of(stat), Some(ErrorKind::NoSuchKey));
    }

    pub async fn multipart_listings_page(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        let mut expected = Vec::new();
        for key in ["b", "a", "b", "c/1"] {
            let id = client
                .create_multipart(BUCKET, key, NewObject::default())
                .await
                .expect("create upload");
            expected.push((key.to_owned(), id));
        }
        // Key order, then creation order within a key.
        expected.sort_by(|left, right| left.0.cmp(&right.0));
        let mut seen = Vec::new();
        let mut key_marker: Option<String> = None;
        let mut id_marker: Option<String> = None;
        for _ in 0..10 {
            let page = client
                .list_multipart_uploads(BUCKET, "", key_marker.as_deref(), id_marker.as_deref(), 1)
                .await
                .expect("list uploads");
            seen.extend(
                page.uploads
                    .iter()
                    .map(|upload| (upload.key.clone(), upload.upload_id.clone())),
            );
            if !page.is_truncated {
                break;
            }
            key_marker = page.next_key_marker.clone();
            id_marker = page.next_upload_id_marker.clone();
        }
        assert_eq!(seen, expected);
        let prefixed = client
            .list_multipart_uploads(BUCKET, "c/", None, None, 10)
            .await
            .expect("list with prefix");
        assert_eq!(prefixed.uploads.len(), 1);
        let upload = &expected[0].1;
        for number in 1..=5 {
            upload_part(client, BUCKET, "a", upload, number, &[number as u8])
                .await
                .expect("upload part");
        }
        let first = client
            .list_parts(BUCKET, "a", upload, None, 2)
            .await
            .expect("list parts");
        let numbers: Vec<u32> = first.parts.iter().map(|part| part.part_number).collect();
        assert_eq!(numbers, vec![1, 2]);
        assert!(first.is_truncated);
        assert_eq!(first.next_part_number_marker, Some(2));
        let rest = client
            .list_parts(BUCKET, "a", upload, Some(2), 10)
            .await
            .expect("list remaining parts");
        let numbers: Vec<u32> = rest.parts.iter().map(|part| part.part_number).collect();
        assert_eq!(numbers, vec![3, 4, 5]);
        assert!(!rest.is_truncated);
    }

    pub async fn reader_survives_concurrent_delete(context: Context) {
        let client = &context.client;
        bucket(&context).await;
        // Parts larger than the body window keep most blobs unread when the delete runs.
        let upload = client
            .create_multipart(BUCKET, "mp", NewObject::default())
            .await
            .expect("create upload");
        let mut parts = Vec::new();
        let mut whole = Vec::new();
        for number in 1..=3u32 {
            let data = pattern(1536 * 1024, number as u8);
            let meta = upload_part(client, BUCKET, "mp", &upload, number, &data)
                .await
                .expect("upload part");
            parts.push((number, meta.etag));
            whole.extend_from_slice(&data);
        }
        client
            .complete_multipart(BUCKET, "mp", &upload, parts)
            .await
            .expect("complete");
        let (_, mut body) = client.get_object(BUCKET, "mp", None).await.expect("open");
        let mut data = Vec::new();
        let first = body.next().await.expect("a first chunk").expect("chunk");
        data.extend_from_slice(&first);
        client.delete_object(BUCKET, "mp").await.expect("delete");
        put(client, BUCKET, "mp", b"replacement")
            .await
            .expect("overwrite");
        while let Some(chunk) = body.next().await {
            data.extend_from_slice(&chunk.expect("chunk after the delete"));
        }
        assert!(data == whole, "the reader saw a changed object");
        assert!(blob_count_is(&context, 1));
    }
}
