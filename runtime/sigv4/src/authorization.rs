//! Parsing of the SigV4 `Authorization` header and of presigned URL query parameters into a
//! [`ParsedSignature`], before the secret key is known.

use percent_encoding::percent_decode;
use time::OffsetDateTime;

use crate::canonical::ALGORITHM;
use crate::error::{AuthKind, SigV4Error, excerpt};
use crate::request::SignedRequest;
use crate::timestamp;

/// Maximum length of an `Authorization` header value in bytes.
pub const MAX_AUTHORIZATION_LEN: usize = 8 * 1024;
/// Maximum number of names in a signed-header list.
pub const MAX_SIGNED_HEADERS: usize = 128;
/// Maximum length of an access key id in bytes (the IAM limit).
pub const MAX_ACCESS_KEY_ID_LEN: usize = 128;
/// Maximum `X-Amz-Expires` in seconds: seven days, as S3 allows.
pub const MAX_EXPIRES_SECONDS: u32 = 604_800;
/// Maximum length of a session token in bytes.
pub const MAX_SECURITY_TOKEN_LEN: usize = 8 * 1024;

/// The signature fields of a request, parsed but not yet verified.
///
/// The caller looks up the secret of [`ParsedSignature::access_key_id`] and then calls
/// [`crate::verify`]. The `Debug` output leaves out the signature and the session token.
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedSignature {
    pub(crate) kind: AuthKind,
    pub(crate) access_key_id: String,
    pub(crate) scope_date: String,
    pub(crate) region: String,
    pub(crate) service: String,
    pub(crate) signed_headers: Vec<String>,
    pub(crate) signature: [u8; 32],
    pub(crate) presigned: Option<PresignedTime>,
    pub(crate) security_token: Option<String>,
    /// `X-Amz-Content-Sha256` query parameter of a presigned URL, which some SDKs add.
    pub(crate) query_content_sha256: Option<String>,
}

/// Request time and lifetime of a presigned URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PresignedTime {
    pub(crate) request_time: OffsetDateTime,
    pub(crate) expires_seconds: u32,
}

impl ParsedSignature {
    /// Returns whether the signature came from the header or from the query.
    pub fn kind(&self) -> AuthKind {
        self.kind
    }

    /// Returns the access key id of the credential scope.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// Returns the credential scope date, `YYYYMMDD`.
    pub fn scope_date(&self) -> &str {
        &self.scope_date
    }

    /// Returns the credential scope region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Returns the credential scope service.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Returns the lower-cased signed header names, in the order the client listed them.
    pub fn signed_headers(&self) -> &[String] {
        &self.signed_headers
    }

    /// Returns the session token: the `X-Amz-Security-Token` query parameter of a presigned
    /// URL, or the `x-amz-security-token` header of a header-signed request.
    pub fn security_token(&self) -> Option<&str> {
        self.security_token.as_deref()
    }

    /// Returns `X-Amz-Expires` of a presigned URL, in seconds.
    pub fn expires_seconds(&self) -> Option<u32> {
        self.presigned.map(|presigned| presigned.expires_seconds)
    }
}

impl std::fmt::Debug for ParsedSignature {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ParsedSignature")
            .field("kind", &self.kind)
            .field("access_key_id", &self.access_key_id)
            .field("scope_date", &self.scope_date)
            .field("region", &self.region)
            .field("service", &self.service)
            .field("signed_headers", &self.signed_headers)
            .field("presigned", &self.presigned)
            .finish_non_exhaustive()
    }
}

/// Finds and parses the SigV4 signature of a request.
///
/// Returns `Ok(None)` when the request carries no SigV4 signature: no `Authorization` header
/// starting with `AWS4-HMAC-SHA256` or `AWS`, and no `X-Amz-Algorithm`, `X-Amz-Credential` or
/// `X-Amz-Signature` query parameter. The caller then treats it as anonymous or tries another
/// scheme, such as `Authorization: Bearer`.
///
/// # Errors
///
/// Returns [`SigV4Error::UnsupportedAlgorithm`] for SigV2 (`AWS ...`) and other `AWS4-`
/// algorithms, [`SigV4Error::ConflictingAuthentication`] when presigned query parameters come
/// with any `Authorization` header (a `Bearer` one too), and a malformed-header or
/// malformed-query error for invalid fields.
pub fn parse(request: &SignedRequest<'_>) -> Result<Option<ParsedSignature>, SigV4Error> {
    let authorization =
        request
            .single_header("authorization")
            .map_err(|()| SigV4Error::DuplicateHeader {
                name: "authorization",
            })?;
    let header_is_sigv4 = match authorization {
        Some(value) if is_sigv4_header(value) => true,
        Some(value) if value.starts_with("AWS4-") || value.starts_with("AWS ") => {
            return Err(SigV4Error::UnsupportedAlgorithm);
        }
        _ => false,
    };
    let query_is_presigned = has_presigned_parameters(request.raw_query);

    if authorization.is_some() && query_is_presigned {
        return Err(SigV4Error::ConflictingAuthentication);
    }
    match (header_is_sigv4, query_is_presigned) {
        (true, _) => {
            let mut parsed = parse_authorization(authorization.unwrap_or_default())?;
            let token = request
                .single_header("x-amz-security-token")
                .map_err(|()| SigV4Error::DuplicateHeader {
                    name: "x-amz-security-token",
                })?;
            if let Some(token) = token {
                if token.len() > MAX_SECURITY_TOKEN_LEN {
                    return Err(malformed_header(
                        "the x-amz-security-token header is too long",
                    ));
                }
                parsed.security_token = Some(token.to_owned());
            }
            Ok(Some(parsed))
        }
        (false, true) => parse_presigned(request.raw_query).map(Some),
        (false, false) => Ok(None),
    }
}

fn is_sigv4_header(value: &str) -> bool {
    value
        .strip_prefix(ALGORITHM)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
}

fn has_presigned_parameters(raw_query: &str) -> bool {
    raw_query.split('&').any(|parameter| {
        let name = parameter
            .split_once('=')
            .map_or(parameter, |(name, _)| name);
        matches!(
            name,
            "X-Amz-Algorithm" | "X-Amz-Credential" | "X-Amz-Signature"
        )
    })
}

/// Parses an `Authorization` header value such as
/// `AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request,
/// SignedHeaders=host;range;x-amz-date, Signature=<64 hex digits>`.
///
/// The three components may come in any order, with spaces after the commas.
///
/// # Errors
///
/// Returns [`SigV4Error::UnsupportedAlgorithm`] for another algorithm and
/// [`SigV4Error::MalformedAuthorization`] for any other deviation from the grammar.
pub fn parse_authorization(value: &str) -> Result<ParsedSignature, SigV4Error> {
    if value.len() > MAX_AUTHORIZATION_LEN {
        return Err(malformed_header("the header is longer than 8 KiB"));
    }
    let value = value.trim_matches([' ', '\t']);
    let Some(components) = value.strip_prefix(ALGORITHM) else {
        return Err(SigV4Error::UnsupportedAlgorithm);
    };
    if !components.is_empty() && !components.starts_with(' ') {
        return Err(SigV4Error::UnsupportedAlgorithm);
    }

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for component in components.split(',') {
        let component = component.trim_matches([' ', '\t']);
        if component.is_empty() {
            continue;
        }
        let Some((name, field)) = component.split_once('=') else {
            return Err(malformed_header(
                "each component must be Name=value, and one has no '='",
            ));
        };
        let slot = match name {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => {
                return Err(malformed_header(&format!(
                    "unknown component '{}'; expected Credential, SignedHeaders and Signature",
                    excerpt(name)
                )));
            }
        };
        if slot.replace(field).is_some() {
            return Err(malformed_header(&format!(
                "the {name} component appears twice"
            )));
        }
    }

    let credential =
        credential.ok_or_else(|| malformed_header("the Credential component is missing"))?;
    let signed_headers =
        signed_headers.ok_or_else(|| malformed_header("the SignedHeaders component is missing"))?;
    let signature =
        signature.ok_or_else(|| malformed_header("the Signature component is missing"))?;

    let scope = parse_credential(credential, AuthKind::Header)?;
    let signed_headers = parse_signed_headers(signed_headers, AuthKind::Header)?;
    let signature = parse_signature(signature, AuthKind::Header)?;
    Ok(ParsedSignature {
        kind: AuthKind::Header,
        access_key_id: scope.access_key_id,
        scope_date: scope.date,
        region: scope.region,
        service: scope.service,
        signed_headers,
        signature,
        presigned: None,
        security_token: None,
        query_content_sha256: None,
    })
}

/// Parses the `X-Amz-*` parameters of a presigned URL from the raw query string.
///
/// `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`,
/// `X-Amz-SignedHeaders` and `X-Amz-Signature` are required, each exactly once.
/// `X-Amz-Security-Token` and `X-Amz-Content-Sha256` are optional, at most once each.
///
/// # Errors
///
/// Returns [`SigV4Error::MalformedQuery`] for a missing, repeated or invalid parameter.
pub fn parse_presigned(raw_query: &str) -> Result<ParsedSignature, SigV4Error> {
    let mut algorithm = None;
    let mut credential = None;
    let mut date = None;
    let mut expires = None;
    let mut signed_headers = None;
    let mut signature = None;
    let mut security_token = None;
    let mut content_sha256 = None;
    for parameter in raw_query.split('&') {
        let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        let slot = match name {
            "X-Amz-Algorithm" => &mut algorithm,
            "X-Amz-Credential" => &mut credential,
            "X-Amz-Date" => &mut date,
            "X-Amz-Expires" => &mut expires,
            "X-Amz-SignedHeaders" => &mut signed_headers,
            "X-Amz-Signature" => &mut signature,
            "X-Amz-Security-Token" => &mut security_token,
            "X-Amz-Content-Sha256" => &mut content_sha256,
            _ => continue,
        };
        if value.len() > MAX_SECURITY_TOKEN_LEN {
            return Err(malformed_query(&format!(
                "the {name} parameter is too long"
            )));
        }
        let decoded = percent_decode(value.as_bytes())
            .decode_utf8()
            .map_err(|_| malformed_query(&format!("the {name} parameter is not valid UTF-8")))?
            .into_owned();
        if slot.replace(decoded).is_some() {
            return Err(malformed_query(&format!(
                "the {name} parameter appears twice"
            )));
        }
    }

    let (
        Some(algorithm),
        Some(credential),
        Some(date),
        Some(expires),
        Some(signed_headers),
        Some(signature),
    ) = (
        algorithm,
        credential,
        date,
        expires,
        signed_headers,
        signature,
    )
    else {
        return Err(malformed_query(
            "query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders and X-Amz-Expires parameters",
        ));
    };
    if algorithm != ALGORITHM {
        return Err(malformed_query(
            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"",
        ));
    }
    let scope = parse_credential(&credential, AuthKind::Presigned)?;
    let request_time = timestamp::parse_amz_date(&date).ok_or_else(|| {
        malformed_query(&format!(
            "X-Amz-Date '{}' must be in the ISO 8601 basic form YYYYMMDD'T'HHMMSS'Z'",
            excerpt(&date)
        ))
    })?;
    let expires_seconds = parse_expires(&expires)?;
    let signed_headers = parse_signed_headers(&signed_headers, AuthKind::Presigned)?;
    let signature = parse_signature(&signature, AuthKind::Presigned)?;
    Ok(ParsedSignature {
        kind: AuthKind::Presigned,
        access_key_id: scope.access_key_id,
        scope_date: scope.date,
        region: scope.region,
        service: scope.service,
        signed_headers,
        signature,
        presigned: Some(PresignedTime {
            request_time,
            expires_seconds,
        }),
        security_token,
        query_content_sha256: content_sha256,
    })
}

fn parse_expires(value: &str) -> Result<u32, SigV4Error> {
    if value.starts_with('-') {
        return Err(malformed_query("X-Amz-Expires must be non-negative"));
    }
    if value.is_empty() || value.len() > 10 || !value.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(malformed_query(
            "X-Amz-Expires must be a whole number of seconds",
        ));
    }
    let seconds: u64 = value
        .parse()
        .map_err(|_| malformed_query("X-Amz-Expires must be a whole number of seconds"))?;
    if seconds == 0 {
        return Err(malformed_query("X-Amz-Expires must be at least 1 second"));
    }
    if seconds > u64::from(MAX_EXPIRES_SECONDS) {
        return Err(malformed_query(
            "X-Amz-Expires must be less than a week (in seconds) that is 604800",
        ));
    }
    // The bound check above keeps the value within u32.
    Ok(u32::try_from(seconds).unwrap_or(MAX_EXPIRES_SECONDS))
}

struct CredentialScope {
    access_key_id: String,
    date: String,
    region: String,
    service: String,
}

/// Parses `AKID/YYYYMMDD/region/service/aws4_request`. The access key id is everything before
/// the last four `/`-separated fields, so a configured key id may itself contain `/`.
fn parse_credential(value: &str, kind: AuthKind) -> Result<CredentialScope, SigV4Error> {
    let malformed = |reason: &str| match kind {
        AuthKind::Header => malformed_header(reason),
        AuthKind::Presigned => malformed_query(reason),
    };
    let expected_form = "the Credential is malformed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"";
    let mut fields = value.rsplitn(5, '/');
    let (Some(terminal), Some(service), Some(region), Some(date), Some(access_key_id)) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return Err(malformed(expected_form));
    };
    let is_field = |field: &str| {
        !field.is_empty()
            && field
                .bytes()
                .all(|byte| byte.is_ascii_graphic() && byte != b',')
    };
    if !is_field(access_key_id) || access_key_id.len() > MAX_ACCESS_KEY_ID_LEN {
        return Err(malformed(expected_form));
    }
    if !is_field(region) || !is_field(service) || region.len() > 64 || service.len() > 64 {
        return Err(malformed(expected_form));
    }
    if terminal != "aws4_request" {
        return Err(malformed(&format!(
            "incorrect terminal \"{}\"; this endpoint uses \"aws4_request\"",
            excerpt(terminal)
        )));
    }
    if timestamp::parse_scope_date(date).is_none() {
        return Err(malformed(&format!(
            "invalid credential date \"{}\"; expecting YYYYMMDD",
            excerpt(date)
        )));
    }
    Ok(CredentialScope {
        access_key_id: access_key_id.to_owned(),
        date: date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
    })
}

/// Parses `host;range;x-amz-date`: lower-case names separated by `;`.
fn parse_signed_headers(value: &str, kind: AuthKind) -> Result<Vec<String>, SigV4Error> {
    let malformed = |reason: &str| match kind {
        AuthKind::Header => malformed_header(reason),
        AuthKind::Presigned => malformed_query(reason),
    };
    let count = value.split(';').count();
    if count > MAX_SIGNED_HEADERS {
        return Err(malformed(&format!(
            "SignedHeaders lists {count} names, more than the maximum of {MAX_SIGNED_HEADERS}"
        )));
    }
    let mut names = Vec::with_capacity(count);
    for name in value.split(';') {
        let valid = !name.is_empty()
            && name.bytes().all(|byte| {
                byte.is_ascii_lowercase()
                    || byte.is_ascii_digit()
                    || b"!#$%&'*+-.^_`|~".contains(&byte)
            });
        if !valid {
            return Err(malformed(&format!(
                "SignedHeaders must list lower-case header names separated by ';', and '{}' is not one",
                excerpt(name)
            )));
        }
        names.push(name.to_owned());
    }
    Ok(names)
}

fn parse_signature(value: &str, kind: AuthKind) -> Result<[u8; 32], SigV4Error> {
    let mut signature = [0_u8; 32];
    if value.len() != 64 || hex::decode_to_slice(value, &mut signature).is_err() {
        let reason = "the Signature must be 64 hexadecimal digits";
        return Err(match kind {
            AuthKind::Header => malformed_header(reason),
            AuthKind::Presigned => malformed_query(reason),
        });
    }
    Ok(signature)
}

fn malformed_header(reason: &str) -> SigV4Error {
    SigV4Error::MalformedAuthorization {
        reason: reason.to_owned(),
    }
}

fn malformed_query(reason: &str) -> SigV4Error {
    SigV4Error::MalformedQuery {
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNATURE: &str = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024";

    fn header(value: &str) -> Result<ParsedSignature, SigV4Error> {
        parse_authorization(value)
    }

    #[test]
    fn header_with_spaces_parses() {
        let parsed = header(&format!(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-date, Signature={SIGNATURE}"
        ))
        .unwrap();
        assert_eq!(parsed.access_key_id(), "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(parsed.scope_date(), "20130524");
        assert_eq!(parsed.region(), "us-east-1");
        assert_eq!(parsed.service(), "s3");
        assert_eq!(parsed.signed_headers(), ["host", "range", "x-amz-date"]);
        assert_eq!(hex::encode(parsed.signature), SIGNATURE);
    }

    #[test]
    fn header_without_spaces_parses() {
        let parsed = header(&format!(
            "AWS4-HMAC-SHA256 Signature={SIGNATURE},Credential=AK/20130524/us-east-1/s3/aws4_request,SignedHeaders=host"
        ))
        .unwrap();
        assert_eq!(parsed.access_key_id(), "AK");
    }

    #[test]
    fn access_key_may_contain_slash() {
        let parsed = header(&format!(
            "AWS4-HMAC-SHA256 Credential=team/key/20130524/us-east-1/s3/aws4_request,SignedHeaders=host,Signature={SIGNATURE}"
        ))
        .unwrap();
        assert_eq!(parsed.access_key_id(), "team/key");
    }

    #[test]
    fn header_errors_are_malformed() {
        let credential = "Credential=AK/20130524/us-east-1/s3/aws4_request";
        let cases = [
            format!("AWS4-HMAC-SHA256 {credential},SignedHeaders=host"),
            format!("AWS4-HMAC-SHA256 {credential},Signature={SIGNATURE}"),
            format!("AWS4-HMAC-SHA256 SignedHeaders=host,Signature={SIGNATURE}"),
            format!(
                "AWS4-HMAC-SHA256 {credential},{credential},SignedHeaders=host,Signature={SIGNATURE}"
            ),
            format!("AWS4-HMAC-SHA256 {credential},SignedHeaders=host,Signature=abc"),
            format!("AWS4-HMAC-SHA256 {credential},SignedHeaders=Host,Signature={SIGNATURE}"),
            format!(
                "AWS4-HMAC-SHA256 {credential},SignedHeaders=host;;range,Signature={SIGNATURE}"
            ),
            format!(
                "AWS4-HMAC-SHA256 {credential},SignedHeaders=host,Signature={SIGNATURE},Extra=1"
            ),
            format!("AWS4-HMAC-SHA256 {credential},SignedHeaders,Signature={SIGNATURE}"),
            format!(
                "AWS4-HMAC-SHA256 Credential=AK/2013052/us-east-1/s3/aws4_request,SignedHeaders=host,Signature={SIGNATURE}"
            ),
            format!(
                "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws5_request,SignedHeaders=host,Signature={SIGNATURE}"
            ),
            format!(
                "AWS4-HMAC-SHA256 Credential=20130524/us-east-1/s3/aws4_request,SignedHeaders=host,Signature={SIGNATURE}"
            ),
            format!(
                "AWS4-HMAC-SHA256 Credential=AK/20130524//s3/aws4_request,SignedHeaders=host,Signature={SIGNATURE}"
            ),
            "AWS4-HMAC-SHA256".to_owned(),
            format!("AWS4-HMAC-SHA256 {}", "x".repeat(MAX_AUTHORIZATION_LEN)),
        ];
        for value in cases {
            let error = header(&value).unwrap_err();
            assert_eq!(error.s3_code(), "AuthorizationHeaderMalformed", "{value}");
        }
    }

    #[test]
    fn too_many_signed_headers_rejected() {
        let names = vec!["x-a"; MAX_SIGNED_HEADERS + 1].join(";");
        let value = format!(
            "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request,SignedHeaders={names},Signature={SIGNATURE}"
        );
        let error = header(&value).unwrap_err();
        assert!(matches!(error, SigV4Error::MalformedAuthorization { .. }));
    }

    #[test]
    fn other_algorithms_unsupported() {
        for value in [
            "AWS4-HMAC-SHA512 Credential=x",
            "AWS4-HMAC-SHA256X Credential=x",
        ] {
            assert_eq!(header(value).unwrap_err(), SigV4Error::UnsupportedAlgorithm);
        }
    }

    fn presigned_query(overrides: &[(&str, Option<&str>)]) -> String {
        let mut parameters = vec![
            ("X-Amz-Algorithm", Some("AWS4-HMAC-SHA256")),
            (
                "X-Amz-Credential",
                Some("AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"),
            ),
            ("X-Amz-Date", Some("20130524T000000Z")),
            ("X-Amz-Expires", Some("86400")),
            ("X-Amz-SignedHeaders", Some("host")),
            ("X-Amz-Signature", Some(SIGNATURE)),
        ];
        for (name, value) in overrides {
            match parameters.iter_mut().find(|(existing, _)| existing == name) {
                Some(parameter) => parameter.1 = *value,
                None => parameters.push((name, *value)),
            }
        }
        parameters
            .iter()
            .filter_map(|(name, value)| value.map(|value| format!("{name}={value}")))
            .collect::<Vec<_>>()
            .join("&")
    }

    #[test]
    fn presigned_query_parses() {
        let query = presigned_query(&[("X-Amz-Security-Token", Some("token%2Bvalue"))]);
        let parsed = parse_presigned(&query).unwrap();
        assert_eq!(parsed.kind(), AuthKind::Presigned);
        assert_eq!(parsed.access_key_id(), "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(parsed.expires_seconds(), Some(86_400));
        assert_eq!(parsed.security_token(), Some("token+value"));
    }

    #[test]
    fn presigned_errors_are_query_errors() {
        let cases = [
            presigned_query(&[("X-Amz-Algorithm", None)]),
            presigned_query(&[("X-Amz-Credential", None)]),
            presigned_query(&[("X-Amz-Date", None)]),
            presigned_query(&[("X-Amz-Expires", None)]),
            presigned_query(&[("X-Amz-SignedHeaders", None)]),
            presigned_query(&[("X-Amz-Signature", None)]),
            presigned_query(&[("X-Amz-Algorithm", Some("AWS4-HMAC-SHA1"))]),
            presigned_query(&[("X-Amz-Expires", Some("0"))]),
            presigned_query(&[("X-Amz-Expires", Some("-1"))]),
            presigned_query(&[("X-Amz-Expires", Some("604801"))]),
            presigned_query(&[("X-Amz-Expires", Some("1e3"))]),
            presigned_query(&[("X-Amz-Expires", Some("99999999999999999999"))]),
            presigned_query(&[("X-Amz-Date", Some("2013-05-24T00:00:00Z"))]),
            presigned_query(&[("X-Amz-Credential", Some("AK%2F20130524%2Fus-east-1%2Fs3"))]),
            presigned_query(&[("X-Amz-Signature", Some("00"))]),
            presigned_query(&[("X-Amz-Security-Token", Some("%FF"))]),
            format!("{}&X-Amz-Date=20130524T000000Z", presigned_query(&[])),
        ];
        for query in cases {
            let error = parse_presigned(&query).unwrap_err();
            assert_eq!(
                error.s3_code(),
                "AuthorizationQueryParametersError",
                "{query}"
            );
        }
    }

    #[test]
    fn expires_limits_are_inclusive() {
        let one = presigned_query(&[("X-Amz-Expires", Some("1"))]);
        assert_eq!(parse_presigned(&one).unwrap().expires_seconds(), Some(1));
        let week = presigned_query(&[("X-Amz-Expires", Some("604800"))]);
        assert_eq!(
            parse_presigned(&week).unwrap().expires_seconds(),
            Some(604_800)
        );
    }

    #[test]
    fn parse_detects_each_form() {
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request,SignedHeaders=host,Signature={SIGNATURE}"
        );
        let headers = [
            ("Authorization", authorization.as_str()),
            ("x-amz-security-token", "tok"),
        ];
        let request = SignedRequest::from_target("GET", "/", &headers);
        let parsed = parse(&request).unwrap().unwrap();
        assert_eq!(parsed.kind(), AuthKind::Header);
        assert_eq!(parsed.security_token(), Some("tok"));

        let target = format!("/key?{}", presigned_query(&[]));
        let request = SignedRequest::from_target("GET", &target, &[]);
        assert_eq!(
            parse(&request).unwrap().unwrap().kind(),
            AuthKind::Presigned
        );

        let bearer = [("authorization", "Bearer abc")];
        let request = SignedRequest::from_target("GET", "/?list-type=2", &bearer);
        assert_eq!(parse(&request).unwrap(), None);
    }

    #[test]
    fn parse_rejects_both_forms() {
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request,SignedHeaders=host,Signature={SIGNATURE}"
        );
        let headers = [("authorization", authorization.as_str())];
        let target = format!("/key?{}", presigned_query(&[]));
        let request = SignedRequest::from_target("GET", &target, &headers);
        assert_eq!(
            parse(&request).unwrap_err(),
            SigV4Error::ConflictingAuthentication
        );
    }

    #[test]
    fn parse_rejects_bearer_with_query() {
        let headers = [("authorization", "Bearer token")];
        let target = format!("/key?{}", presigned_query(&[]));
        let request = SignedRequest::from_target("GET", &target, &headers);
        assert_eq!(
            parse(&request).unwrap_err(),
            SigV4Error::ConflictingAuthentication
        );
    }

    #[test]
    fn parse_rejects_sigv2() {
        let headers = [(
            "authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=",
        )];
        let request = SignedRequest::from_target("GET", "/", &headers);
        assert_eq!(
            parse(&request).unwrap_err(),
            SigV4Error::UnsupportedAlgorithm
        );
    }

    #[test]
    fn debug_hides_signature() {
        let parsed = parse_presigned(&presigned_query(&[(
            "X-Amz-Security-Token",
            Some("secret-token"),
        )]))
        .unwrap();
        let debug = format!("{parsed:?}");
        assert!(!debug.contains(SIGNATURE));
        assert!(!debug.contains("secret-token"));
    }
}
