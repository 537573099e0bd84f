//! Shared helpers for the IronBucket benchmarks.
