//! Audit log replay for `diff --audit-log`: decides each past request against the old and the
//! new policies and lists the requests whose decision would flip.
//!
//! Audit records carry the user id and tenant but not roles, groups, tags or claims, so a
//! `--principals` file supplies those per user id. Without it, only policies that select by
//! user, tenant or `*` can match a replayed request.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use anyhow::{Context, Result};
use ironbucket_policy::input::PrincipalSpec;
use ironbucket_policy::{
    Action, CredentialKind, DecisionTable, Principal, Request, RequestContext, S3_ARN_PREFIX,
    parse_date_seconds,
};
use serde::Deserialize;

/// Maximum length of one audit record line; longer lines are skipped and counted.
const MAX_RECORD_BYTES: u64 = 1024 * 1024;

/// Maximum number of flips listed; the count covers them all.
const MAX_LISTED_FLIPS: usize = 1_000;

/// The fields of a gateway audit record that replay reads; others are ignored.
#[derive(Deserialize)]
struct AuditRecord {
    #[serde(default)]
    time: Option<String>,
    principal: String,
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    credential: Option<String>,
    action: String,
    #[serde(default)]
    bucket: Option<String>,
    #[serde(default)]
    key: Option<String>,
    decision: String,
    #[serde(default)]
    client_addr: Option<String>,
    #[serde(default)]
    user_agent: Option<String>,
}

/// One past request whose decision would change.
pub struct Flip {
    line: usize,
    time: String,
    principal: String,
    action: &'static str,
    resource: String,
    before: &'static str,
    after: &'static str,
}

/// The result of a replay.
pub struct Replay {
    /// Records replayed.
    pub replayed: usize,
    /// Lines that were not audit records, or were too long.
    pub skipped: usize,
    /// Records of requests that failed before a decision, which replay leaves out.
    pub undecided: usize,
    /// Records whose logged decision differs from the old policies' decision, a sign that
    /// the principal file is missing roles or that the log comes from other policies.
    pub disagreements: usize,
    /// Requests whose decision flips.
    pub flips: Vec<Flip>,
}

pub fn replay(
    path: &Path,
    principals: &BTreeMap<String, PrincipalSpec>,
    old: &DecisionTable,
    new: &DecisionTable,
) -> Result<Replay> {
    let file =
        File::open(path).with_context(|| format!("cannot open audit log {}", path.display()))?;
    let mut reader = BufReader::new(file);
    let mut replay = Replay {
        replayed: 0,
        skipped: 0,
        undecided: 0,
        disagreements: 0,
        flips: Vec::new(),
    };
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_RECORD_BYTES + 1)
            .read_until(b'\n', &mut line)
            .with_context(|| format!("cannot read audit log {}", path.display()))?;
        if read == 0 {
            break;
        }
        number += 1;
        if line.len() as u64 > MAX_RECORD_BYTES {
            skip_rest_of_line(&mut reader)?;
            replay.skipped += 1;
            continue;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let Ok(record) = serde_json::from_slice::<AuditRecord>(&line) else {
            replay.skipped += 1;
            continue;
        };
        replay_record(&mut replay, number, &record, principals, old, new)?;
    }
    Ok(replay)
}

fn skip_rest_of_line(reader: &mut impl BufRead) -> Result<()> {
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(());
        }
        if let Some(end) = buffer.iter().position(|byte| *byte == b'\n') {
            reader.consume(end + 1);
            return Ok(());
        }
        let length = buffer.len();
        reader.consume(length);
    }
}

fn replay_record(
    replay: &mut Replay,
    line: usize,
    record: &AuditRecord,
    principals: &BTreeMap<String, PrincipalSpec>,
    old: &DecisionTable,
    new: &DecisionTable,
) -> Result<()> {
    if !matches!(record.decision.as_str(), "allow" | "deny") {
        replay.undecided += 1;
        return Ok(());
    }
    let Some(action) = Action::from_name(&record.action) else {
        replay.skipped += 1;
        return Ok(());
    };

    let principal = record_principal(record, principals)?;
    let resource = match (&record.bucket, &record.key) {
        (Some(bucket), Some(key)) => format!("{S3_ARN_PREFIX}{bucket}/{key}"),
        (Some(bucket), None) => format!("{S3_ARN_PREFIX}{bucket}"),
        _ => "*".to_owned(),
    };
    let source_ip = record.client_addr.as_deref().and_then(|text| {
        text.parse::<SocketAddr>()
            .map(|address| address.ip())
            .or_else(|_| text.parse::<IpAddr>())
            .ok()
    });
    // NOTE: records do not say whether the request used TLS, so aws:SecureTransport is
    // replayed as false. Records carry no listing parameters or headers either, so those
    // keys are absent.
    let context = RequestContext {
        source_ip,
        current_time_unix: record
            .time
            .as_deref()
            .and_then(parse_date_seconds)
            .unwrap_or_default(),
        user_agent: record.user_agent.as_deref(),
        ..RequestContext::default()
    };
    let request = Request {
        principal: &principal,
        action,
        resource: &resource,
        context: &context,
    };

    let word = |allowed: bool| if allowed { "allow" } else { "deny" };
    let before = word(old.evaluate(&request).is_allowed());
    let after = word(new.evaluate(&request).is_allowed());
    replay.replayed += 1;
    if before != record.decision {
        replay.disagreements += 1;
    }
    if before != after {
        replay.flips.push(Flip {
            line,
            time: record.time.clone().unwrap_or_default(),
            principal: record.principal.clone(),
            action: action.name(),
            resource,
            before,
            after,
        });
    }
    Ok(())
}

fn record_principal(
    record: &AuditRecord,
    principals: &BTreeMap<String, PrincipalSpec>,
) -> Result<Principal> {
    if let Some(spec) = principals.get(&record.principal) {
        let mut principal = spec.to_principal()?;
        if principal.user_id.is_empty() {
            principal.user_id = record.principal.clone();
        }
        if principal.username.is_empty() {
            principal.username = record.principal.clone();
        }
        if principal.tenant.is_empty() {
            principal.tenant = record.tenant.clone();
        }
        return Ok(principal);
    }
    Ok(Principal {
        user_id: record.principal.clone(),
        username: record.principal.clone(),
        tenant: record.tenant.clone(),
        credential: record
            .credential
            .as_deref()
            .and_then(CredentialKind::from_name)
            .unwrap_or_default(),
        ..Principal::default()
    })
}

impl Replay {
    pub fn print(&self, out: &mut impl Write) -> Result<()> {
        writeln!(out)?;
        writeln!(
            out,
            "audit log: {} requests replayed, {} would flip",
            self.replayed,
            self.flips.len()
        )?;
        for flip in self.flips.iter().take(MAX_LISTED_FLIPS) {
            writeln!(
                out,
                "  line {}: {} {} {} on {}: {} -> {}",
                flip.line,
                flip.time,
                flip.principal,
                flip.action,
                flip.resource,
                flip.before,
                flip.after
            )?;
        }
        if self.flips.len() > MAX_LISTED_FLIPS {
            writeln!(
                out,
                "  ... and {} more",
                self.flips.len() - MAX_LISTED_FLIPS
            )?;
        }
        if self.skipped > 0 {
            writeln!(
                out,
                "  {} lines skipped: not audit records, unknown actions, or longer than {} \
                 bytes",
                self.skipped, MAX_RECORD_BYTES
            )?;
        }
        if self.undecided > 0 {
            writeln!(
                out,
                "  {} records left out: the request failed before a decision",
                self.undecided
            )?;
        }
        if self.disagreements > 0 {
            writeln!(
                out,
                "  warning: for {} records the old policies decide differently than the log \
                 says; audit records carry no roles or groups, so pass --principals with them",
                self.disagreements
            )?;
        }
        Ok(())
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "replayed": self.replayed,
            "skipped": self.skipped,
            "undecided": self.undecided,
            "disagreements": self.disagreements,
            "flips": self.flips.iter().map(|flip| serde_json::json!({
                "line": flip.line,
                "time": flip.time,
                "principal": flip.principal,
                "action": flip.action,
                "resource": flip.resource,
                "before": flip.before,
                "after": flip.after,
            })).collect::<Vec<_>>(),
        })
    }
}
