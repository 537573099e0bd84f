//! Parsing of the S3 request bodies the gateway implements: `Delete`
//! (DeleteObjects), `CompleteMultipartUpload` and `CreateBucketConfiguration`.
//!
//! Parsing streams events from `quick_xml::Reader` and keeps only the values
//! it needs. Namespaces and unknown elements are ignored, as S3 ignores them.
//! A document type declaration is rejected, so no entity other than the five
//! predefined ones and character references is ever expanded. Body size is
//! capped by the caller; element counts and nesting depth are capped here.
//! Every structural problem is `MalformedXML`.

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;

use crate::error::{ErrorCode, S3Error};
use crate::params::MAX_PART_NUMBER;

/// The maximum number of keys in one `DeleteObjects` request.
pub const MAX_DELETE_OBJECTS: usize = 1000;

/// The deepest element nesting accepted. The documents parsed here are three
/// levels deep; the margin allows for extensions S3 may add.
const MAX_DEPTH: usize = 8;

/// A parsed `Delete` document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteRequest {
    /// `Quiet`: report only errors.
    pub quiet: bool,
    /// The objects to delete, in request order; 1 to 1000 entries.
    pub objects: Vec<ObjectIdentifier>,
}

/// One `Object` of a `Delete` document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectIdentifier {
    /// The key, exactly as sent. Its length is not checked here, so that the
    /// caller can report `KeyTooLongError` for that key alone.
    pub key: String,
    pub version_id: Option<String>,
}

/// Parses the body of `DeleteObjects`.
///
/// Errors (all `MalformedXML`): a root other than `Delete`, no `Object`, more
/// than 1000, an `Object` without a non-empty `Key` or with two, and a
/// `Quiet` other than `true` or `false`.
pub fn parse_delete(body: &[u8]) -> Result<DeleteRequest, S3Error> {
    let mut request = DeleteRequest::default();
    let mut key: Option<String> = None;
    let mut version_id: Option<String> = None;
    walk(body, "Delete", |path, text| {
        match path {
            [_, quiet] if quiet == "Quiet" => {
                request.quiet = parse_bool(text)?;
            }
            [_, object, field] if object == "Object" && field == "Key" => {
                let previous = key.replace(text.to_owned());
                if previous.is_some() {
                    return Err(malformed("an Object has more than one Key"));
                }
            }
            [_, object, field] if object == "Object" && field == "VersionId" => {
                version_id = Some(text.to_owned());
            }
            [_, object] if object == "Object" => {
                let key = key.take().filter(|key| !key.is_empty());
                let Some(key) = key else {
                    return Err(malformed("an Object has no Key"));
                };
                if request.objects.len() == MAX_DELETE_OBJECTS {
                    return Err(malformed("the request names more than 1000 objects"));
                }
                request.objects.push(ObjectIdentifier {
                    key,
                    version_id: version_id.take(),
                });
            }
            _ => {}
        }
        Ok(())
    })?;
    if request.objects.is_empty() {
        return Err(malformed("the request names no object"));
    }
    Ok(request)
}

/// One `Part` of a `CompleteMultipartUpload` document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    pub part_number: u16,
    /// The part's ETag without surrounding quotes.
    pub etag: String,
}

/// Parses the body of `CompleteMultipartUpload`.
///
/// Checksum elements (`ChecksumCRC32` and the others) are ignored. A
/// malformed document, no `Part`, a part without `PartNumber` or `ETag`, or
/// more than 10000 parts is `MalformedXML`. A part number outside 1 to 10000
/// is `InvalidArgument`. Part numbers that do not strictly increase are
/// `InvalidPartOrder`.
pub fn parse_complete_multipart_upload(body: &[u8]) -> Result<Vec<CompletedPart>, S3Error> {
    let mut parts: Vec<CompletedPart> = Vec::new();
    let mut part_number: Option<u16> = None;
    let mut etag: Option<String> = None;
    walk(body, "CompleteMultipartUpload", |path, text| {
        match path {
            [_, part, field] if part == "Part" && field == "PartNumber" => {
                let number = text
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| malformed("a PartNumber is not an integer"))?;
                if !(1..=u64::from(MAX_PART_NUMBER)).contains(&number) {
                    return Err(S3Error::invalid_argument(
                        "Part number must be an integer between 1 and 10000, inclusive",
                        "partNumber",
                        &number.to_string(),
                    ));
                }
                part_number = Some(number as u16);
            }
            [_, part, field] if part == "Part" && field == "ETag" => {
                let value = text.trim();
                let value = value
                    .strip_prefix('"')
                    .and_then(|inner| inner.strip_suffix('"'))
                    .unwrap_or(value);
                etag = Some(value.to_owned());
            }
            [_, part] if part == "Part" => {
                let (Some(number), Some(tag)) = (part_number.take(), etag.take()) else {
                    return Err(malformed("a Part needs both PartNumber and ETag"));
                };
                if parts.len() == usize::from(MAX_PART_NUMBER) {
                    return Err(malformed("the request lists more than 10000 parts"));
                }
                if parts.last().is_some_and(|last| last.part_number >= number) {
                    return Err(S3Error::new(ErrorCode::InvalidPartOrder));
                }
                parts.push(CompletedPart {
                    part_number: number,
                    etag: tag,
                });
            }
            _ => {}
        }
        Ok(())
    })?;
    if parts.is_empty() {
        return Err(malformed("the request lists no part"));
    }
    Ok(parts)
}

/// Parses the optional body of `CreateBucket` and returns its
/// `LocationConstraint`, or `None` for an empty body or an empty element
/// (both mean us-east-1).
pub fn parse_create_bucket_configuration(body: &[u8]) -> Result<Option<String>, S3Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let mut constraint = None;
    walk(body, "CreateBucketConfiguration", |path, text| {
        if let [_, element] = path
            && element == "LocationConstraint"
        {
            let text = text.trim();
            constraint = (!text.is_empty()).then(|| text.to_owned());
        }
        Ok(())
    })?;
    Ok(constraint)
}

/// Checks a `CreateBucket` location constraint against the region this
/// gateway serves.
///
/// No constraint is accepted for any region. That is more lenient than S3,
/// which requires one outside us-east-1, but it lets clients that never send
/// one create buckets. A constraint equal to the region is accepted, and so
/// is `EU` for eu-west-1, its legacy alias. A value that is not shaped like a
/// region name is `InvalidLocationConstraint`. Any other region is
/// `IllegalLocationConstraintException`, which is the code S3 returns when
/// the constraint does not match the endpoint's region.
pub fn check_location_constraint(constraint: Option<&str>, region: &str) -> Result<(), S3Error> {
    let Some(constraint) = constraint else {
        return Ok(());
    };
    if constraint == region || (constraint == "EU" && region == "eu-west-1") {
        return Ok(());
    }
    let region_shaped = !constraint.is_empty()
        && constraint.len() <= 64
        && constraint
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !region_shaped && constraint != "EU" {
        return Err(S3Error::new(ErrorCode::InvalidLocationConstraint)
            .extra("LocationConstraint", constraint));
    }
    Err(S3Error::with_message(
        ErrorCode::IllegalLocationConstraintException,
        format!(
            "The {constraint} location constraint is incompatible for the region specific endpoint this request was sent to."
        ),
    ))
}

fn parse_bool(text: &str) -> Result<bool, S3Error> {
    match text.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(malformed("Quiet must be true or false")),
    }
}

fn malformed(detail: &str) -> S3Error {
    S3Error::with_message(
        ErrorCode::MalformedXML,
        format!(
            "The XML you provided was not well-formed or did not validate against our published schema: {detail}."
        ),
    )
}

/// Streams `body`, checks that its root element is `root`, and calls
/// `on_end(path, text)` as each element closes. `path` contains the local names
/// from the root down to the closing element, and `text` the text content
/// since its last child started (the whole text of a leaf element).
fn walk(
    body: &[u8],
    root: &str,
    mut on_end: impl FnMut(&[String], &str) -> Result<(), S3Error>,
) -> Result<(), S3Error> {
    let mut reader = Reader::from_reader(body);
    let mut path: Vec<String> = Vec::with_capacity(MAX_DEPTH);
    let mut text = String::new();
    let mut root_closed = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|error| malformed(&format!("{error} at byte {}", reader.error_position())))?;
        match event {
            Event::Start(_) | Event::Empty(_) if root_closed => {
                return Err(malformed("the document has more than one root element"));
            }
            Event::Start(start) => {
                open_element(&mut path, start.local_name().as_ref(), root)?;
                text.clear();
            }
            Event::Empty(start) => {
                open_element(&mut path, start.local_name().as_ref(), root)?;
                text.clear();
                on_end(&path, "")?;
                path.pop();
                root_closed = path.is_empty();
            }
            Event::End(_) => {
                on_end(&path, &text)?;
                text.clear();
                path.pop();
                root_closed = path.is_empty();
            }
            Event::Text(content) if !path.is_empty() => {
                let decoded = content
                    .xml10_content()
                    .map_err(|_| malformed("the text is not valid UTF-8"))?;
                text.push_str(&decoded);
            }
            Event::CData(content) if !path.is_empty() => {
                let decoded = content
                    .decode()
                    .map_err(|_| malformed("the text is not valid UTF-8"))?;
                text.push_str(&decoded);
            }
            Event::GeneralRef(reference) => {
                push_reference(&mut text, &reference)?;
            }
            Event::DocType(_) => {
                return Err(malformed("document type declarations are not accepted"));
            }
            Event::Text(content) => {
                // Text outside the root element may only be whitespace.
                if !content.iter().all(u8::is_ascii_whitespace) {
                    return Err(malformed("the document has text outside its root element"));
                }
            }
            Event::CData(_) => {
                return Err(malformed("the document has text outside its root element"));
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !root_closed {
        return Err(malformed(
            "the document ends before its root element is closed",
        ));
    }
    Ok(())
}

fn open_element(path: &mut Vec<String>, name: &[u8], root: &str) -> Result<(), S3Error> {
    let name =
        std::str::from_utf8(name).map_err(|_| malformed("an element name is not valid UTF-8"))?;
    if path.is_empty() && name != root {
        return Err(malformed(&format!("the root element must be {root}")));
    }
    if path.len() == MAX_DEPTH {
        return Err(malformed("the elements are nested too deeply"));
    }
    path.push(name.to_owned());
    Ok(())
}

fn push_reference(
    text: &mut String,
    reference: &quick_xml::events::BytesRef<'_>,
) -> Result<(), S3Error> {
    if reference.is_char_ref() {
        let character = reference
            .resolve_char_ref()
            .map_err(|_| malformed("a character reference is not valid"))?
            .ok_or_else(|| malformed("a character reference is not valid"))?;
        text.push(character);
        return Ok(());
    }
    let name = reference
        .decode()
        .map_err(|_| malformed("an entity name is not valid UTF-8"))?;
    let value = resolve_predefined_entity(&name)
        .ok_or_else(|| malformed(&format!("the entity &{name}; is not defined")))?;
    text.push_str(value);
    Ok(())
}
