//! Streaming reader of the document `npm publish` sends (`PUT /:package_name`).
//!
//! The document is the package's packument with one version and the tarball base64-encoded
//! in `_attachments.<file>.data`; for a 200 MiB package that is over 260 MiB of JSON. It is
//! read with `struson` (a pull parser): the attachment's `data` string is decoded as it
//! streams and handed to a sink chunk by chunk, everything else is small and is buffered
//! under [`MAX_METADATA`]. Keys may come in any order (`_attachments` before `versions`),
//! so nothing here validates npm's rules: the caller checks the result after staging.
//!
//! Publish document: <https://github.com/npm/registry/blob/main/docs/REGISTRY-API.md>.
//! Deprecate and the unpublish rewrite send the same shape without attachments.

use std::cell::Cell;
use std::io::Read;
use std::rc::Rc;

use serde_json::{Map, Value};
use struson::reader::{JsonReader, JsonStreamReader, ReaderSettings, ValueType};
use struson::writer::{JsonStreamWriter, JsonWriter};

/// Bytes of JSON outside the attachment's data that are accepted (the manifest, dist-tags,
/// readme, the whole packument of a deprecate request).
pub const MAX_METADATA: u64 = 32 * 1024 * 1024;
/// Most JSON values in `versions` or `dist-tags`. A `serde_json::Value` costs 32 bytes and
/// more, so 32 MiB of `[0,0,...]` would otherwise become over 500 MB of memory; a real
/// manifest holds a few thousand values.
pub const MAX_JSON_VALUES: usize = 100_000;

/// What the document says, apart from the tarball bytes.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PublishBody {
    pub name: Option<String>,
    pub versions: Map<String, Value>,
    pub dist_tags: Map<String, Value>,
    pub attachment: Option<Attachment>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub file_name: String,
    /// `length` as declared by the client.
    pub length: Option<u64>,
    /// Bytes decoded from `data` (0 if there was no `data`).
    pub decoded: u64,
    pub had_data: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Malformed JSON, wrong types, several attachments: the text is safe to show.
    #[error("{0}")]
    Invalid(String),
    #[error("the attachment's data is not valid base64")]
    Base64,
    #[error("the JSON outside the attachment data is larger than {MAX_METADATA} bytes")]
    TooLarge,
    /// The sink refused a chunk (the store stopped reading): its error tells why.
    #[error("the upload was stopped")]
    Aborted,
    /// The request body failed or ended early.
    #[error("the request body ended before it was complete")]
    Interrupted,
}

/// The sink stopped taking data (its reader went away).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SinkClosed;

/// Receives the decoded tarball.
pub trait AttachmentSink {
    /// The attachment's data starts.
    fn begin(&mut self) -> Result<(), SinkClosed>;
    fn chunk(&mut self, bytes: &[u8]) -> Result<(), SinkClosed>;
    /// The data ended well.
    fn end(&mut self);
    /// The data could not be read to its end.
    fn fail(&mut self);
}

/// A sink that only counts (fuzzing, tests).
pub struct Discard;

impl AttachmentSink for Discard {
    fn begin(&mut self) -> Result<(), SinkClosed> {
        Ok(())
    }
    fn chunk(&mut self, _: &[u8]) -> Result<(), SinkClosed> {
        Ok(())
    }
    fn end(&mut self) {}
    fn fail(&mut self) {}
}

/// Counts the body bytes read outside the attachment data and fails past the limit, so a
/// huge name, readme or manifest cannot grow memory.
struct Metered<R> {
    inner: R,
    metering: Rc<Cell<bool>>,
    used: u64,
    limit: u64,
    too_large: Rc<Cell<bool>>,
    io_failed: Rc<Cell<bool>>,
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self
            .inner
            .read(buf)
            .inspect_err(|_| self.io_failed.set(true))?;
        if self.metering.get() {
            self.used += n as u64;
            if self.used > self.limit {
                self.too_large.set(true);
                return Err(std::io::Error::other("metadata too large"));
            }
        }
        Ok(n)
    }
}

/// Writes into a `Vec` up to a bound.
struct Bounded {
    buf: Vec<u8>,
    limit: usize,
}

impl std::io::Write for Bounded {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + b.len() > self.limit {
            return Err(std::io::Error::other("value too large"));
        }
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Parser<R: Read> {
    json: JsonStreamReader<Metered<R>>,
    metering: Rc<Cell<bool>>,
    too_large: Rc<Cell<bool>>,
    io_failed: Rc<Cell<bool>>,
}

/// Reads a publish (or deprecate, or rewrite) document from `reader`, sending the decoded
/// attachment to `sink`.
pub fn parse<R: Read>(reader: R, sink: &mut dyn AttachmentSink) -> Result<PublishBody, BodyError> {
    parse_with_limit(reader, sink, MAX_METADATA)
}

pub fn parse_with_limit<R: Read>(
    reader: R,
    sink: &mut dyn AttachmentSink,
    limit: u64,
) -> Result<PublishBody, BodyError> {
    let metering = Rc::new(Cell::new(true));
    let too_large = Rc::new(Cell::new(false));
    let io_failed = Rc::new(Cell::new(false));
    let metered = Metered {
        inner: reader,
        metering: metering.clone(),
        used: 0,
        limit,
        too_large: too_large.clone(),
        io_failed: io_failed.clone(),
    };
    let settings = ReaderSettings {
        max_nesting_depth: Some(64),
        track_path: false,
        ..Default::default()
    };
    let mut p = Parser {
        json: JsonStreamReader::new_custom(metered, settings),
        metering,
        too_large,
        io_failed,
    };
    let body = p.document(sink, limit).map_err(|e| p.classify(e))?;
    let (too_large, io_failed) = (p.too_large.clone(), p.io_failed.clone());
    p.json.consume_trailing_whitespace().map_err(|e| {
        if too_large.get() {
            BodyError::TooLarge
        } else if io_failed.get() {
            BodyError::Interrupted
        } else {
            json_err(e)
        }
    })?;
    Ok(body)
}

impl<R: Read> Parser<R> {
    /// A struson failure, told apart from a body that failed or was too large.
    fn classify(&self, e: BodyError) -> BodyError {
        if self.too_large.get() {
            BodyError::TooLarge
        } else if self.io_failed.get() {
            BodyError::Interrupted
        } else {
            e
        }
    }

    fn document(
        &mut self,
        sink: &mut dyn AttachmentSink,
        limit: u64,
    ) -> Result<PublishBody, BodyError> {
        let mut body = PublishBody::default();
        if self.json.peek().map_err(json_err)? != ValueType::Object {
            return Err(BodyError::Invalid(
                "the request body must be a JSON object".into(),
            ));
        }
        self.json.begin_object().map_err(json_err)?;
        while self.json.has_next().map_err(json_err)? {
            let key = self.json.next_name_owned().map_err(json_err)?;
            match key.as_str() {
                "name" => body.name = Some(self.string("name")?),
                "versions" => body.versions = self.object("versions", limit)?,
                "dist-tags" => body.dist_tags = self.object("dist-tags", limit)?,
                "_attachments" => self.attachments(&mut body, sink)?,
                _ => self.json.skip_value().map_err(json_err)?,
            }
        }
        self.json.end_object().map_err(json_err)?;
        Ok(body)
    }

    fn string(&mut self, what: &str) -> Result<String, BodyError> {
        if self.json.peek().map_err(json_err)? != ValueType::String {
            return Err(BodyError::Invalid(format!("'{what}' must be a string")));
        }
        self.json.next_string().map_err(json_err)
    }

    /// A small JSON object, copied through a bounded buffer into a `serde_json` map.
    fn object(&mut self, what: &str, limit: u64) -> Result<Map<String, Value>, BodyError> {
        match self.json.peek().map_err(json_err)? {
            ValueType::Object => {}
            ValueType::Null => {
                self.json.next_null().map_err(json_err)?;
                return Ok(Map::new());
            }
            _ => return Err(BodyError::Invalid(format!("'{what}' must be an object"))),
        }
        let mut out = Bounded {
            buf: Vec::new(),
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
        };
        let mut writer = JsonStreamWriter::new(&mut out);
        self.json.transfer_to(&mut writer).map_err(|e| match e {
            struson::reader::TransferError::ReaderError(e) => json_err(e),
            struson::reader::TransferError::WriterError(_) => BodyError::TooLarge,
        })?;
        writer.finish_document().map_err(|_| BodyError::TooLarge)?;
        if value_count_over(&out.buf, MAX_JSON_VALUES) {
            return Err(BodyError::Invalid(format!(
                "'{what}' holds more than {MAX_JSON_VALUES} JSON values"
            )));
        }
        match serde_json::from_slice(&out.buf) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(BodyError::Invalid(format!("'{what}' must be an object"))),
        }
    }

    fn attachments(
        &mut self,
        body: &mut PublishBody,
        sink: &mut dyn AttachmentSink,
    ) -> Result<(), BodyError> {
        match self.json.peek().map_err(json_err)? {
            ValueType::Object => {}
            ValueType::Null => return self.json.next_null().map_err(json_err),
            _ => {
                return Err(BodyError::Invalid(
                    "'_attachments' must be an object".into(),
                ))
            }
        }
        self.json.begin_object().map_err(json_err)?;
        while self.json.has_next().map_err(json_err)? {
            let file_name = self.json.next_name_owned().map_err(json_err)?;
            if body.attachment.is_some() {
                return Err(BodyError::Invalid(
                    "publish one tarball at a time: '_attachments' holds more than one".into(),
                ));
            }
            if self.json.peek().map_err(json_err)? != ValueType::Object {
                return Err(BodyError::Invalid(
                    "each attachment must be an object".into(),
                ));
            }
            let mut att = Attachment {
                file_name,
                length: None,
                decoded: 0,
                had_data: false,
            };
            self.json.begin_object().map_err(json_err)?;
            while self.json.has_next().map_err(json_err)? {
                let key = self.json.next_name_owned().map_err(json_err)?;
                match key.as_str() {
                    "data" if !att.had_data => {
                        if self.json.peek().map_err(json_err)? != ValueType::String {
                            return Err(BodyError::Invalid(
                                "the attachment's data must be a base64 string".into(),
                            ));
                        }
                        att.had_data = true;
                        att.decoded = self.data(sink)?;
                    }
                    "data" => {
                        return Err(BodyError::Invalid("the attachment has 'data' twice".into()))
                    }
                    "length" => {
                        if self.json.peek().map_err(json_err)? != ValueType::Number {
                            return Err(BodyError::Invalid(
                                "the attachment's length must be a number".into(),
                            ));
                        }
                        att.length =
                            Some(self.json.next_number::<u64>().map_err(json_err)?.map_err(
                                |_| {
                                    BodyError::Invalid(
                                        "the attachment's length must be a whole number".into(),
                                    )
                                },
                            )?);
                    }
                    _ => self.json.skip_value().map_err(json_err)?,
                }
            }
            self.json.end_object().map_err(json_err)?;
            body.attachment = Some(att);
        }
        self.json.end_object().map_err(json_err)
    }

    /// Decodes the base64 string straight into the sink, unmetered.
    fn data(&mut self, sink: &mut dyn AttachmentSink) -> Result<u64, BodyError> {
        use base64::engine::general_purpose::STANDARD;
        sink.begin().map_err(|_| BodyError::Aborted)?;
        self.metering.set(false);
        let result = (|| {
            let raw = self.json.next_string_reader().map_err(json_err)?;
            let mut decoder = base64::read::DecoderReader::new(raw, &STANDARD);
            let mut buf = vec![0u8; 64 * 1024];
            let mut total = 0u64;
            loop {
                let n = match decoder.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                        return Err(
                            if e.get_ref().is_some_and(|i| i.is::<base64::DecodeError>()) {
                                BodyError::Base64
                            } else {
                                BodyError::Invalid(format!("malformed JSON in the attachment: {e}"))
                            },
                        )
                    }
                    Err(e) => {
                        return Err(BodyError::Invalid(format!(
                            "malformed JSON in the attachment: {e}"
                        )))
                    }
                };
                sink.chunk(&buf[..n]).map_err(|_| BodyError::Aborted)?;
                total += n as u64;
            }
            Ok(total)
        })();
        self.metering.set(true);
        match result {
            Ok(total) => {
                sink.end();
                Ok(total)
            }
            Err(e) => {
                sink.fail();
                Err(self.classify(e))
            }
        }
    }
}

/// Whether valid JSON `text` holds more than `max` values, counted from the bytes that open
/// or separate them (`[`, `{`, `,`, `:` outside strings; at most twice the true count) before
/// anything is built from it.
fn value_count_over(text: &[u8], max: usize) -> bool {
    let (mut count, mut in_string, mut escaped) = (0usize, false, false);
    for &b in text {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'[' | b'{' | b',' | b':' => {
                    count += 1;
                    if count > max.saturating_mul(2) {
                        return true;
                    }
                }
                _ => {}
            }
        }
    }
    false
}

fn json_err(e: struson::reader::ReaderError) -> BodyError {
    BodyError::Invalid(format!("the request body is not valid JSON: {e}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use base64::Engine;
    use proptest::prelude::*;

    #[derive(Default)]
    struct Collect {
        began: bool,
        bytes: Vec<u8>,
        ended: bool,
        failed: bool,
    }
    impl AttachmentSink for Collect {
        fn begin(&mut self) -> Result<(), SinkClosed> {
            self.began = true;
            Ok(())
        }
        fn chunk(&mut self, b: &[u8]) -> Result<(), SinkClosed> {
            self.bytes.extend_from_slice(b);
            Ok(())
        }
        fn end(&mut self) {
            self.ended = true;
        }
        fn fail(&mut self) {
            self.failed = true;
        }
    }

    fn b64(b: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    #[test]
    fn attachment_first_then_manifest_is_read() {
        let tar: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let doc = format!(
            r#"{{"_attachments":{{"a-1.0.0.tgz":{{"content_type":"application/octet-stream","data":"{}","length":200000}}}},
                "_id":"a","name":"a","description":"d","dist-tags":{{"latest":"1.0.0"}},
                "versions":{{"1.0.0":{{"name":"a","version":"1.0.0","dist":{{"shasum":"x"}}}}}},"readme":"r"}}"#,
            b64(&tar)
        );
        let mut sink = Collect::default();
        let body = parse(doc.as_bytes(), &mut sink).unwrap();
        assert!(sink.began && sink.ended && !sink.failed);
        assert_eq!(sink.bytes, tar);
        assert_eq!(body.name.as_deref(), Some("a"));
        assert_eq!(body.dist_tags["latest"], "1.0.0");
        assert_eq!(body.versions["1.0.0"]["dist"]["shasum"], "x");
        let att = body.attachment.unwrap();
        assert_eq!(att.file_name, "a-1.0.0.tgz");
        assert_eq!(att.length, Some(200_000));
        assert_eq!(att.decoded, 200_000);
    }

    #[test]
    fn a_deprecate_body_has_no_attachment() {
        let doc = r#"{"name":"a","versions":{"1.0.0":{"deprecated":"old"}},"_attachments":{}}"#;
        let mut sink = Collect::default();
        let body = parse(doc.as_bytes(), &mut sink).unwrap();
        assert!(!sink.began);
        assert!(body.attachment.is_none());
        assert_eq!(body.versions["1.0.0"]["deprecated"], "old");
    }

    #[test]
    fn bad_documents_are_refused_with_a_reason() {
        let cases = [
            ("", "not valid JSON"),
            ("[1]", "must be a JSON object"),
            ("{\"name\":1}", "'name' must be a string"),
            ("{\"versions\":[]}", "'versions' must be an object"),
            ("{\"name\":\"a\"", "not valid JSON"),
            ("{\"name\":\"a\"} x", "not valid JSON"),
            (
                r#"{"_attachments":{"a":{"data":"AA=="},"b":{"data":"AA=="}}}"#,
                "more than one",
            ),
            (r#"{"_attachments":{"a":{"data":5}}}"#, "base64 string"),
            (r#"{"_attachments":{"a":{"length":-1}}}"#, "whole number"),
            (
                r#"{"_attachments":{"a":{"data":"AA==","data":"AA=="}}}"#,
                "twice",
            ),
        ];
        for (doc, want) in cases {
            let err = parse(doc.as_bytes(), &mut Discard).unwrap_err();
            assert!(err.to_string().contains(want), "{doc}: {err}");
        }
    }

    #[test]
    fn non_base64_data_is_refused_and_the_sink_told() {
        let mut sink = Collect::default();
        let err = parse(
            r#"{"_attachments":{"a":{"data":"!!!not base64!!!"}}}"#.as_bytes(),
            &mut sink,
        )
        .unwrap_err();
        assert!(matches!(err, BodyError::Base64), "{err}");
        assert!(sink.failed && !sink.ended);
    }

    #[test]
    fn metadata_past_the_limit_is_too_large_but_data_is_not_counted() {
        let big = format!(r#"{{"readme":"{}"}}"#, "x".repeat(20_000));
        assert!(matches!(
            parse_with_limit(big.as_bytes(), &mut Discard, 10_000),
            Err(BodyError::TooLarge)
        ));
        let data = format!(
            r#"{{"_attachments":{{"a":{{"data":"{}"}}}}}}"#,
            b64(&[1u8; 300_000])
        );
        assert!(parse_with_limit(data.as_bytes(), &mut Discard, 10_000).is_ok());
    }

    #[test]
    fn versions_with_too_many_json_values_are_refused_before_they_are_built() {
        // 600 KB of JSON, 300,000 values: 10 MB and more as serde values.
        let many = format!(
            r#"{{"versions":{{"1.0.0":{{"files":[{}0]}}}}}}"#,
            "0,".repeat(300_000)
        );
        let err = parse(many.as_bytes(), &mut Discard).unwrap_err();
        assert_eq!(
            err.to_string(),
            "'versions' holds more than 100000 JSON values"
        );
        // Commas, colons and brackets inside strings are not values.
        let text = format!(
            r#"{{"versions":{{"1.0.0":{{"readme":"{}","files":[1,2]}}}}}}"#,
            r#"[,:{\"\\"#.repeat(100_000)
        );
        let body = parse(text.as_bytes(), &mut Discard).unwrap();
        assert_eq!(body.versions["1.0.0"]["files"][1], 2);
    }

    #[test]
    fn a_body_cut_off_is_interrupted() {
        struct Failing<'a>(&'a [u8]);
        impl Read for Failing<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0.is_empty() {
                    return Err(std::io::Error::other("reset"));
                }
                let n = self.0.read(buf)?;
                Ok(n)
            }
        }
        let doc = br#"{"_attachments":{"a":{"data":"AAAA"#;
        let mut sink = Collect::default();
        let err = parse(Failing(doc), &mut sink).unwrap_err();
        assert!(matches!(err, BodyError::Interrupted), "{err}");
        assert!(sink.failed);
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = parse(s.as_bytes(), &mut Discard);
        }
    }
}
