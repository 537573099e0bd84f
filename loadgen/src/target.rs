//! Targets: the `--target name=NAME,url=URL[,pid=PID][,prepare=no]` syntax, URL parsing, and
//! the rule that only loopback hosts are loaded unless `--allow-remote` is given.

use std::net::{SocketAddr, ToSocketAddrs as _};

use crate::error::LoadgenError;

/// URL scheme of a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// Plain HTTP/1.1.
    Http,
    /// HTTP/1.1 over TLS (rustls).
    Https,
}

/// One server to load, as given on the command line.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Target {
    /// Label used in reports, unique within a run.
    pub name: String,
    /// The URL as written.
    pub url: String,
    /// URL scheme.
    pub scheme: Scheme,
    /// Host as written in the URL, without brackets; it is also the TLS server name.
    pub host: String,
    /// Port, defaulted from the scheme.
    pub port: u16,
    /// Value of the `Host` header: `host:port` as written in the URL.
    pub authority: String,
    /// Addresses the host resolved to, in resolver order.
    #[serde(skip)]
    pub addresses: Vec<SocketAddr>,
    /// Process whose CPU time and peak memory are read from `/proc` around each run.
    pub pid: Option<u32>,
    /// Whether the prepare phase runs against this target; a static file server such as
    /// nginx gets its objects from `write-files` instead.
    pub prepare: bool,
}

impl Target {
    /// Parses `name=NAME,url=URL[,pid=PID][,prepare=yes|no]`, or a bare URL, which gets the
    /// name `target` followed by its position (`index`, starting at 1) when there are several.
    pub fn parse(spec: &str, index: usize) -> Result<Self, LoadgenError> {
        let mut name = None;
        let mut url = None;
        let mut pid = None;
        let mut prepare = true;
        if spec.contains("://") && !spec.contains("url=") {
            url = Some(spec.to_owned());
        } else {
            for field in spec.split(',') {
                let (key, value) = field.split_once('=').ok_or_else(|| {
                    LoadgenError::invalid(
                        "--target",
                        format!("{field:?} is not KEY=VALUE; write name=NAME,url=URL"),
                    )
                })?;
                match key.trim() {
                    "name" => name = Some(value.trim().to_owned()),
                    "url" => url = Some(value.trim().to_owned()),
                    "pid" => {
                        pid = Some(value.trim().parse().map_err(|_| {
                            LoadgenError::invalid(
                                "--target",
                                format!("pid {value:?} is not a number"),
                            )
                        })?);
                    }
                    "prepare" => {
                        prepare = match value.trim() {
                            "yes" | "true" => true,
                            "no" | "false" => false,
                            other => {
                                return Err(LoadgenError::invalid(
                                    "--target",
                                    format!("prepare={other:?} must be yes or no"),
                                ));
                            }
                        };
                    }
                    other => {
                        return Err(LoadgenError::invalid(
                            "--target",
                            format!("unknown key {other:?}; use name, url, pid or prepare"),
                        ));
                    }
                }
            }
        }
        let url =
            url.ok_or_else(|| LoadgenError::invalid("--target", format!("{spec:?} has no url=")))?;
        let name = name.unwrap_or_else(|| format!("target{index}"));
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        {
            return Err(LoadgenError::invalid(
                "--target",
                format!("name {name:?} must be non-empty ASCII letters, digits, '-' or '_'"),
            ));
        }
        let (scheme, host, port, authority) = parse_url(&url)?;
        Ok(Self {
            name,
            url,
            scheme,
            host,
            port,
            authority,
            addresses: Vec::new(),
            pid,
            prepare,
        })
    }

    /// Resolves the host and rejects any address outside 127.0.0.0/8 and `::1` unless
    /// `allow_remote` is set.
    pub fn resolve(&mut self, allow_remote: bool) -> Result<(), LoadgenError> {
        let addresses: Vec<SocketAddr> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|source| LoadgenError::Io {
                context: format!(
                    "cannot resolve host {:?} of target {}",
                    self.host, self.name
                ),
                source,
            })?
            .collect();
        if addresses.is_empty() {
            return Err(LoadgenError::invalid(
                "--target",
                format!("host {:?} resolved to no address", self.host),
            ));
        }
        let remote = addresses.iter().find(|address| !address.ip().is_loopback());
        if let (false, Some(remote)) = (allow_remote, remote) {
            return Err(LoadgenError::RemoteTarget {
                name: self.name.clone(),
                address: remote.ip().to_string(),
            });
        }
        self.addresses = addresses;
        Ok(())
    }
}

/// Splits `scheme://host[:port][/]` into its parts. A path other than `/` is rejected because
/// requests are addressed path-style from the root (`/bucket/key`).
fn parse_url(url: &str) -> Result<(Scheme, String, u16, String), LoadgenError> {
    let invalid = |message: String| LoadgenError::invalid("--target", message);
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| invalid(format!("url {url:?} has no scheme; write http://HOST:PORT")))?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => {
            return Err(invalid(format!(
                "url scheme {other:?} must be http or https"
            )));
        }
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
        return Err(invalid(format!(
            "url {url:?} must be scheme://host[:port] with no path, query or user"
        )));
    }
    let default_port = match scheme {
        Scheme::Http => 80,
        Scheme::Https => 443,
    };
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| invalid(format!("url {url:?} has an unclosed '['")))?;
        let port = match after.strip_prefix(':') {
            Some(port) => parse_port(port, url)?,
            None if after.is_empty() => default_port,
            None => return Err(invalid(format!("url {url:?} has text after ']'"))),
        };
        (host.to_owned(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host.to_owned(), parse_port(port, url)?),
            None => (authority.to_owned(), default_port),
        }
    };
    if host.is_empty() {
        return Err(invalid(format!("url {url:?} has an empty host")));
    }
    Ok((scheme, host, port, authority.to_owned()))
}

fn parse_port(text: &str, url: &str) -> Result<u16, LoadgenError> {
    text.parse::<u16>()
        .ok()
        .filter(|port| *port != 0)
        .ok_or_else(|| {
            LoadgenError::invalid("--target", format!("url {url:?} has an invalid port"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_with_all_fields() {
        let target = Target::parse("name=direct,url=http://127.0.0.1:8081,pid=42,prepare=no", 1)
            .expect("valid spec");
        assert_eq!(target.name, "direct");
        assert_eq!(target.port, 8081);
        assert_eq!(target.authority, "127.0.0.1:8081");
        assert_eq!(target.pid, Some(42));
        assert!(!target.prepare);
    }

    #[test]
    fn bare_url_gets_default_name() {
        let target = Target::parse("https://localhost", 2).expect("valid url");
        assert_eq!(target.name, "target2");
        assert_eq!(target.scheme, Scheme::Https);
        assert_eq!(target.port, 443);
    }

    #[test]
    fn bracketed_ipv6_host_parses() {
        let target = Target::parse("http://[::1]:9000", 1).expect("valid url");
        assert_eq!(target.host, "::1");
        assert_eq!(target.port, 9000);
    }

    #[test]
    fn url_with_path_rejected() {
        assert!(Target::parse("http://127.0.0.1:9000/bucket", 1).is_err());
    }

    #[test]
    fn unknown_spec_key_rejected() {
        assert!(Target::parse("name=a,url=http://127.0.0.1:1,colour=red", 1).is_err());
    }

    #[test]
    fn loopback_target_resolves() {
        let mut target = Target::parse("http://127.0.0.1:9000", 1).expect("valid url");
        assert!(target.resolve(false).is_ok());
    }

    #[test]
    fn remote_target_rejected_by_default() {
        let mut target = Target::parse("http://192.0.2.1:9000", 1).expect("valid url");
        let error = target.resolve(false).expect_err("remote host");
        assert!(matches!(error, LoadgenError::RemoteTarget { .. }));
    }
}
