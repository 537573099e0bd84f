//! Request authentication: SigV4 with a cached signing key, a Bearer token, or none.
//!
//! `ironbucket_sigv4::signer::sign_request` derives the signing key on every call (four
//! HMAC-SHA256 operations). The key only changes with the scope date, so [`SigV4Signer`]
//! keeps it and builds the canonical request and string to sign with the same
//! `ironbucket_sigv4::canonical` functions that the signer and the verifier use. A unit test
//! checks that both produce the same `Authorization` header.

use ironbucket_sigv4::SignedRequest;
use ironbucket_sigv4::SigningKeyCache;
use ironbucket_sigv4::canonical;
use ironbucket_sigv4::timestamp::format_amz_date;
use time::OffsetDateTime;

/// SHA-256 of an empty payload, the `x-amz-content-sha256` of bodiless requests.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A secret that never appears in `Debug` output.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// Returns the secret itself, for signing or for the `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Secret(..)")
    }
}

/// The credentials that authenticate requests.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// AWS Signature Version 4 with an access key.
    SigV4 {
        /// Access key id.
        access_key_id: String,
        /// Secret access key.
        secret_access_key: Secret,
        /// Region of the credential scope.
        region: String,
    },
    /// `Authorization: Bearer TOKEN`.
    Bearer(Secret),
    /// No `Authorization` header.
    Anonymous,
}

/// Headers that authenticate one request, built per connection thread.
pub enum Authenticator {
    /// SigV4 with a cached signing key and a cached `x-amz-date` value.
    SigV4(Box<SigV4Signer>),
    /// A fixed `Authorization: Bearer` header.
    Bearer(String),
    /// No authentication headers.
    Anonymous,
}

impl Authenticator {
    /// Creates the authenticator for `credentials`.
    pub fn new(credentials: &Credentials) -> Self {
        match credentials {
            Credentials::SigV4 {
                access_key_id,
                secret_access_key,
                region,
            } => Self::SigV4(Box::new(SigV4Signer::new(
                access_key_id.clone(),
                secret_access_key.clone(),
                region.clone(),
            ))),
            Credentials::Bearer(token) => Self::Bearer(format!("Bearer {}", token.expose())),
            Credentials::Anonymous => Self::Anonymous,
        }
    }

    /// Appends the authentication headers of a request to `headers`, which must already
    /// contain `host`. `payload_hash` is the `x-amz-content-sha256` value.
    pub fn authenticate(
        &mut self,
        method: &str,
        target: &str,
        headers: &mut Vec<(&'static str, String)>,
        payload_hash: &str,
    ) {
        match self {
            Self::SigV4(signer) => {
                let now = OffsetDateTime::now_utc();
                signer.sign(method, target, headers, payload_hash, now);
            }
            Self::Bearer(value) => headers.push(("authorization", value.clone())),
            Self::Anonymous => {}
        }
    }
}

/// A SigV4 signer that derives its signing key once per scope date.
pub struct SigV4Signer {
    access_key_id: String,
    secret_access_key: Secret,
    region: String,
    keys: SigningKeyCache,
    cached_date: Option<(i64, String)>,
}

impl SigV4Signer {
    /// Creates a signer for the S3 service in `region`.
    pub fn new(access_key_id: String, secret_access_key: Secret, region: String) -> Self {
        Self {
            access_key_id,
            secret_access_key,
            region,
            keys: SigningKeyCache::new(4),
            cached_date: None,
        }
    }

    /// Returns `x-amz-date` for `now`, formatted once per second.
    fn amz_date(&mut self, now: OffsetDateTime) -> String {
        let second = now.unix_timestamp();
        match &self.cached_date {
            Some((cached, value)) if *cached == second => value.clone(),
            _ => {
                let value = format_amz_date(now);
                self.cached_date = Some((second, value.clone()));
                value
            }
        }
    }

    /// Adds `x-amz-date`, `x-amz-content-sha256` and `authorization` to `headers`, signing
    /// every header in it.
    pub fn sign(
        &mut self,
        method: &str,
        target: &str,
        headers: &mut Vec<(&'static str, String)>,
        payload_hash: &str,
        now: OffsetDateTime,
    ) {
        let amz_date = self.amz_date(now);
        let date = &amz_date[..8];
        headers.push(("x-amz-date", amz_date.clone()));
        headers.push(("x-amz-content-sha256", payload_hash.to_owned()));
        let mut names: Vec<String> = headers.iter().map(|(name, _)| (*name).to_owned()).collect();
        names.sort_unstable();
        names.dedup();
        let borrowed: Vec<(&str, &str)> = headers
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        let request = SignedRequest::from_target(method, target, &borrowed);
        let canonical_request = canonical::canonical_request(&request, &names, false, payload_hash);
        let scope = canonical::credential_scope(date, &self.region, "s3");
        let string_to_sign = canonical::string_to_sign(&amz_date, &scope, &canonical_request);
        let key = self
            .keys
            .signing_key(self.secret_access_key.expose(), date, &self.region, "s3");
        let signature = key.sign_hex(string_to_sign.as_bytes());
        let authorization = format!(
            "{} Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
            canonical::ALGORITHM,
            self.access_key_id,
            names.join(";"),
        );
        headers.push(("authorization", authorization));
    }

    /// Returns how many signing keys were derived, for tests of the cache.
    pub fn derived_keys(&self) -> u64 {
        self.keys.misses()
    }
}

#[cfg(test)]
mod tests {
    use ironbucket_sigv4::signer::{SigningParams, sign_headers};

    use super::*;

    const SECRET: &str = "alice-demo-secret-key-do-not-use-0000001";

    fn signer() -> SigV4Signer {
        SigV4Signer::new(
            "AKIAACMEALICE0000001".to_owned(),
            Secret::new(SECRET.to_owned()),
            "us-east-1".to_owned(),
        )
    }

    #[test]
    fn matches_reference_signer() {
        let now = OffsetDateTime::from_unix_timestamp(1_767_225_600).expect("valid time");
        let mut ours = vec![("host", "127.0.0.1:9000".to_owned())];
        signer().sign(
            "GET",
            "/bucket/key?list-type=2",
            &mut ours,
            EMPTY_SHA256,
            now,
        );
        let mut reference = vec![("host".to_owned(), "127.0.0.1:9000".to_owned())];
        let params = SigningParams {
            access_key_id: "AKIAACMEALICE0000001",
            secret_access_key: SECRET,
            session_token: None,
            region: "us-east-1",
            service: "s3",
            time: now,
        };
        let expected = sign_headers(
            &params,
            "GET",
            "/bucket/key?list-type=2",
            &mut reference,
            EMPTY_SHA256,
        );
        let ours_authorization = &ours.last().expect("authorization header").1;
        assert_eq!(ours_authorization, &expected.authorization);
    }

    #[test]
    fn signing_key_derived_once() {
        let now = OffsetDateTime::from_unix_timestamp(1_767_225_600).expect("valid time");
        let mut signer = signer();
        for _ in 0..10 {
            let mut headers = vec![("host", "h".to_owned())];
            signer.sign("GET", "/b/k", &mut headers, EMPTY_SHA256, now);
        }
        assert_eq!(signer.derived_keys(), 1);
    }

    #[test]
    fn secret_hidden_from_debug() {
        let credentials = Credentials::Bearer(Secret::new("token-value".to_owned()));
        assert!(!format!("{credentials:?}").contains("token-value"));
    }
}
