//! The parts of an HTTP request that SigV4 signs, borrowed from the server's parsed request.

/// The method, raw request target and headers of a request, as received.
///
/// `raw_path` and `raw_query` are the bytes of the request target exactly as the client sent
/// them (still percent-encoded), because S3 signs the path as sent and does not normalize it.
/// Header names may be in any case. Header values are compared after trimming, so leading and
/// trailing whitespace does not matter.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// HTTP method, such as `GET`.
    pub method: &'a str,
    /// Path of the request target, starting with `/`, without the query.
    pub raw_path: &'a str,
    /// Query of the request target, without the leading `?`; empty when there is none.
    pub raw_query: &'a str,
    /// Request headers in the order received; a name may repeat.
    pub headers: &'a [(&'a str, &'a str)],
}

impl<'a> SignedRequest<'a> {
    /// Builds a request from an origin-form target such as `/bucket/key?uploads`, splitting the
    /// target at its first `?`.
    pub fn from_target(
        method: &'a str,
        target: &'a str,
        headers: &'a [(&'a str, &'a str)],
    ) -> Self {
        let (raw_path, raw_query) = target.split_once('?').unwrap_or((target, ""));
        Self {
            method,
            raw_path,
            raw_query,
            headers,
        }
    }

    /// Iterates over the values of every header named `name`, ignoring ASCII case.
    pub fn header_values(&self, name: &str) -> impl Iterator<Item = &'a str> {
        self.headers
            .iter()
            .filter(move |(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| *value)
    }

    /// Returns the trimmed value of a header that must appear at most once, or `Err(())` when
    /// it appears more than once.
    pub(crate) fn single_header(&self, name: &str) -> Result<Option<&'a str>, ()> {
        let mut values = self.header_values(name);
        let first = values.next();
        if values.next().is_some() {
            return Err(());
        }
        Ok(first.map(|value| value.trim_matches([' ', '\t'])))
    }
}
