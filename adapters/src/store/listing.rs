//! ListObjects: reading the key names of a bucket and cutting one page with S3's prefix,
//! delimiter, start-after and max-keys rules.

use futures_util::{StreamExt, TryStreamExt};

use super::records::ObjectRecord;
use super::{Inner, LIST_READ_CONCURRENCY};
use crate::error::StorageError;
use crate::layout::{self, DecodedName};
use crate::storage::StorageResult;
use crate::types::{ListPage, ListQuery, MAX_LIST_KEYS};

/// One entry of a page before the object records are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PageEntry {
    Key(String),
    CommonPrefix(String),
}

/// A page cut from sorted keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyPage {
    pub(crate) entries: Vec<PageEntry>,
    pub(crate) is_truncated: bool,
}

/// Cuts one page from `keys`, which are sorted in byte order and all start with the prefix.
///
/// Entries are keys and common prefixes in one merged order. A common prefix sorts where its
/// string sorts, so with `start_after` equal to a common prefix P, or inside P's group, all
/// keys under P are skipped, and P never appears on two pages. With a `max_keys` of 0 the page
/// is empty and not truncated: AWS S3 returns IsTruncated false for max-keys=0, and
/// S3-compatible servers such as versitygw were changed to match it.
pub(crate) fn cut_page(keys: &[String], query: &ListQuery) -> KeyPage {
    let max_keys = query.max_keys.min(MAX_LIST_KEYS);
    let delimiter = query.delimiter.as_deref().filter(|text| !text.is_empty());
    let start_after = query.start_after.as_deref();
    let first = match start_after {
        Some(start_after) => keys.partition_point(|key| key.as_str() <= start_after),
        None => 0,
    };
    let mut entries: Vec<PageEntry> = Vec::new();
    let mut is_truncated = false;
    for key in &keys[first..] {
        let entry = match delimiter.and_then(|delimiter| {
            let rest = &key[query.prefix.len()..];
            rest.find(delimiter)
                .map(|position| &key[..query.prefix.len() + position + delimiter.len()])
        }) {
            Some(common_prefix) => {
                if start_after.is_some_and(|start_after| common_prefix <= start_after) {
                    continue;
                }
                if let Some(PageEntry::CommonPrefix(last)) = entries.last()
                    && last == common_prefix
                {
                    continue;
                }
                PageEntry::CommonPrefix(common_prefix.to_owned())
            }
            None => PageEntry::Key(key.clone()),
        };
        if entries.len() == max_keys {
            is_truncated = max_keys > 0;
            break;
        }
        entries.push(entry);
    }
    KeyPage {
        entries,
        is_truncated,
    }
}

impl Inner {
    /// Returns the sorted keys of `bucket` that start with `prefix`.
    async fn keys_with_prefix(
        &self,
        operation: &'static str,
        bucket: &str,
        prefix: &str,
    ) -> StorageResult<Vec<String>> {
        let names = self
            .list_file_names(operation, &layout::object_dir(bucket))
            .await?;
        let mut keys = Vec::with_capacity(names.len());
        let mut hashed = Vec::new();
        for name in names {
            match layout::decode_name(&name) {
                Some(DecodedName::Key(key)) if key.starts_with(prefix) => keys.push(key),
                Some(DecodedName::Hashed { prefix: start })
                    if start.starts_with(prefix) || prefix.starts_with(start.as_str()) =>
                {
                    hashed.push(name);
                }
                _ => {}
            }
        }
        // NOTE: a key too long for a plain name is known only from its record, so each
        // listing reads the records of long keys whose readable start matches the prefix.
        let long_keys: Vec<Option<String>> = futures_util::stream::iter(hashed)
            .map(|name| async move {
                let path = format!("{}{name}", layout::object_dir(bucket));
                let record: Option<ObjectRecord> = self.read_record(operation, &path).await?;
                // A record whose key does not hash to its file name is not one of ours.
                Ok::<_, StorageError>(
                    record
                        .map(|record| record.key)
                        .filter(|key| layout::encode_key(key) == name),
                )
            })
            .buffered(LIST_READ_CONCURRENCY)
            .try_collect()
            .await?;
        keys.extend(
            long_keys
                .into_iter()
                .flatten()
                .filter(|key| key.starts_with(prefix)),
        );
        keys.sort_unstable();
        Ok(keys)
    }

    pub(crate) async fn list_objects(
        &self,
        bucket: &str,
        query: &ListQuery,
    ) -> StorageResult<ListPage> {
        const OPERATION: &str = "list_objects";
        layout::validate_bucket_name(OPERATION, bucket)?;
        self.require_bucket(OPERATION, bucket).await?;
        let keys = self
            .keys_with_prefix(OPERATION, bucket, &query.prefix)
            .await?;
        let page = cut_page(&keys, query);
        let next_start_after = if page.is_truncated {
            page.entries.last().map(|entry| match entry {
                PageEntry::Key(key) | PageEntry::CommonPrefix(key) => key.clone(),
            })
        } else {
            None
        };
        let mut common_prefixes = Vec::new();
        let mut object_keys = Vec::new();
        for entry in page.entries {
            match entry {
                PageEntry::Key(key) => object_keys.push(key),
                PageEntry::CommonPrefix(prefix) => common_prefixes.push(prefix),
            }
        }
        let records: Vec<Option<ObjectRecord>> = futures_util::stream::iter(object_keys)
            .map(|key| async move { self.read_object_record(OPERATION, bucket, &key).await })
            .buffered(LIST_READ_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(ListPage {
            // An object deleted since the directory was read has no record and is left out.
            objects: records.iter().flatten().map(ObjectRecord::entry).collect(),
            common_prefixes,
            is_truncated: page.is_truncated,
            next_start_after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[&str]) -> Vec<String> {
        let mut keys: Vec<String> = list.iter().map(|key| (*key).to_owned()).collect();
        keys.sort();
        keys
    }

    fn query(
        prefix: &str,
        delimiter: Option<&str>,
        start_after: Option<&str>,
        max_keys: usize,
    ) -> ListQuery {
        ListQuery {
            prefix: prefix.to_owned(),
            delimiter: delimiter.map(str::to_owned),
            start_after: start_after.map(str::to_owned),
            max_keys,
        }
    }

    fn key(text: &str) -> PageEntry {
        PageEntry::Key(text.to_owned())
    }

    fn common(text: &str) -> PageEntry {
        PageEntry::CommonPrefix(text.to_owned())
    }

    #[test]
    fn delimiter_groups_keys() {
        let all = keys(&["a", "a/b", "a/c", "b"]);
        let page = cut_page(&all, &query("", Some("/"), None, 10));
        assert_eq!(page.entries, vec![key("a"), common("a/"), key("b")]);
        assert!(!page.is_truncated);
    }

    #[test]
    fn common_prefix_counts_once() {
        let all = keys(&["a/1", "a/2", "a/3", "b"]);
        let page = cut_page(&all, &query("", Some("/"), None, 1));
        assert_eq!(page.entries, vec![common("a/")]);
        assert!(page.is_truncated);
    }

    #[test]
    fn start_after_common_prefix_skips_group() {
        let all = keys(&["a/1", "a/2", "b"]);
        let page = cut_page(&all, &query("", Some("/"), Some("a/"), 10));
        assert_eq!(page.entries, vec![key("b")]);
    }

    #[test]
    fn start_after_inside_group_skips_group() {
        let all = keys(&["boo/bar", "boo/baz/xyzzy", "cquux/bla"]);
        let page = cut_page(&all, &query("", Some("/"), Some("boo/bar"), 1));
        assert_eq!(page.entries, vec![common("cquux/")]);
        assert!(!page.is_truncated);
    }

    #[test]
    fn zero_max_keys_is_not_truncated() {
        let all = keys(&["a", "b"]);
        let page = cut_page(&all, &query("", None, None, 0));
        assert!(page.entries.is_empty());
        assert!(!page.is_truncated);
    }

    #[test]
    fn exact_fit_is_not_truncated() {
        let all = keys(&["a", "b"]);
        let page = cut_page(&all, &query("", None, None, 2));
        assert!(!page.is_truncated);
    }

    #[test]
    fn multi_character_delimiter_works() {
        let all = keys(&["x--w", "x--y--z"]);
        let page = cut_page(&all, &query("x--", Some("--"), None, 10));
        assert_eq!(page.entries, vec![key("x--w"), common("x--y--")]);
    }

    #[test]
    fn prefix_is_not_grouped() {
        let all = keys(&["p/", "p/a", "p/b/c"]);
        let page = cut_page(&all, &query("p/", Some("/"), None, 10));
        assert_eq!(page.entries, vec![key("p/"), key("p/a"), common("p/b/")]);
    }

    #[test]
    fn pages_cover_all_entries() {
        let all = keys(&["a/1", "a/2", "b", "c/1", "d"]);
        let mut seen = Vec::new();
        let mut start_after: Option<String> = None;
        for _ in 0..10 {
            let page = cut_page(&all, &query("", Some("/"), start_after.as_deref(), 1));
            seen.extend(page.entries.clone());
            if !page.is_truncated {
                break;
            }
            start_after = page.entries.last().map(|entry| match entry {
                PageEntry::Key(text) | PageEntry::CommonPrefix(text) => text.clone(),
            });
        }
        assert_eq!(seen, vec![common("a/"), key("b"), common("c/"), key("d")]);
    }
}
