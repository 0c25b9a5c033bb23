//! Checks on message content shared by every sending endpoint (SPEC: text and attachment limits).

use crate::core::error::{AttachmentPart, Field, Input, Problem};
use crate::core::model::{Attachment, MAX_SAFE_ID};
use crate::{Error, Result};

pub const MAX_TEXT_CHARS: usize = 2_000;
pub const MAX_ATTACHMENTS: usize = 10;
pub const MAX_URL_CHARS: usize = 4_000;
pub const MAX_NAME_CHARS: usize = 1_000;
pub const MAX_TYPE_CHARS: usize = 256;
pub const MAX_EXTERNAL_ID_CHARS: usize = 255;

/// Text and attachments as they arrive; `None` for absent or `null`.
#[derive(Debug, Default)]
pub struct RawContent {
    pub text: Option<String>,
    pub attachments: Option<Vec<Attachment>>,
}

/// Message content that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageContent {
    pub text: String,
    pub attachments: Vec<Attachment>,
}

impl RawContent {
    pub fn validate(self) -> Result<MessageContent> {
        let text = self.text.unwrap_or_default();
        let attachments = self.attachments.unwrap_or_default();
        let text_chars = text.chars().count();
        if text_chars > MAX_TEXT_CHARS {
            return Err(Error::invalid(Input::Text, Problem::TooLong { chars: text_chars, max: MAX_TEXT_CHARS }));
        }
        if text.is_empty() && attachments.is_empty() {
            return Err(Error::invalid(Input::Text, Problem::EmptyWithoutAttachments));
        }
        if attachments.len() > MAX_ATTACHMENTS {
            return Err(Error::invalid(
                Input::Attachments,
                Problem::TooMany { given: attachments.len(), max: MAX_ATTACHMENTS },
            ));
        }
        for (index, attachment) in attachments.iter().enumerate() {
            validate_attachment(attachment, index)?;
        }
        Ok(MessageContent { text, attachments })
    }
}

/// An absolute http(s) URL as openapi.yaml documents it: printable ASCII, and a host of letters,
/// digits, dots and dashes.
fn is_web_url(text: &str) -> bool {
    let host_ok =
        |host: &str| !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    text.bytes().all(|b| (0x21..0x7f).contains(&b))
        && url::Url::parse(text)
            .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(host_ok))
}

fn validate_attachment(attachment: &Attachment, index: usize) -> Result<()> {
    let field = |part| Input::Attachment(index, part);
    check_length(&attachment.url, MAX_URL_CHARS, field(AttachmentPart::Url))?;
    if !is_web_url(&attachment.url) {
        return Err(Error::invalid(field(AttachmentPart::Url), Problem::NotWebUrl));
    }
    if let Some(name) = &attachment.name {
        check_length(name, MAX_NAME_CHARS, field(AttachmentPart::Name))?;
    }
    if let Some(mime_type) = &attachment.mime_type {
        check_length(mime_type, MAX_TYPE_CHARS, field(AttachmentPart::MimeType))?;
        if mime_type.parse::<mime::Mime>().is_err() {
            return Err(Error::invalid(field(AttachmentPart::MimeType), Problem::NotMediaType));
        }
    }
    let name_has_extension = attachment
        .name
        .as_deref()
        .and_then(|name| name.rsplit_once('.'))
        .is_some_and(|(stem, ext)| !stem.is_empty() && !ext.is_empty() && !ext.contains(['/', ' ']));
    if !name_has_extension && attachment.mime_type.is_none() {
        return Err(Error::invalid(field(AttachmentPart::Name), Problem::UnknownFileKind));
    }
    Ok(())
}

/// At most `max` characters; `field` is an [`Input`] or a dialect's own name.
pub fn check_length(value: &str, max: usize, field: impl Into<Field>) -> Result<()> {
    let chars = value.chars().count();
    if chars > max {
        return Err(Error::invalid(field, Problem::TooLong { chars, max }));
    }
    Ok(())
}

/// An internal identifier given by the caller: positive and safe for JavaScript.
pub fn check_id(value: u64, field: impl Into<Field>) -> Result<u64> {
    if value == 0 || value > MAX_SAFE_ID {
        return Err(Error::invalid(field, Problem::IdOutOfRange { max: MAX_SAFE_ID }));
    }
    Ok(value)
}

/// An external client id: 1–255 characters, no control characters.
pub fn check_external_id(value: &str, field: impl Into<Field>) -> Result<()> {
    let field = field.into();
    if value.trim().is_empty() {
        return Err(Error::invalid(field, Problem::Empty));
    }
    check_length(value, MAX_EXTERNAL_ID_CHARS, field.clone())?;
    if value.chars().any(char::is_control) {
        return Err(Error::invalid(field, Problem::ControlCharacters));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attachment(url: &str, name: Option<&str>, mime_type: Option<&str>) -> Attachment {
        Attachment {
            url: url.into(),
            name: name.map(Into::into),
            mime_type: mime_type.map(Into::into),
            size: Some(256),
        }
    }

    fn content(text: &str, attachments: Vec<Attachment>) -> Result<MessageContent> {
        RawContent { text: Some(text.into()), attachments: Some(attachments) }.validate()
    }

    fn field_of(result: Result<MessageContent>) -> Input {
        match result {
            Err(Error::InvalidInput { field: Some(Field::Input(input)), .. }) => input,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    fn attachment_part(index: usize, part: AttachmentPart) -> Input {
        Input::Attachment(index, part)
    }

    #[test]
    fn plain_text_passes_unchanged() {
        let content = content("message", vec![]).unwrap();
        assert_eq!(content.text, "message");
        assert!(content.attachments.is_empty());
    }

    #[test]
    fn text_is_counted_in_unicode_scalar_values() {
        assert!(content(&"é".repeat(MAX_TEXT_CHARS), vec![]).is_ok());
        assert_eq!(field_of(content(&"é".repeat(MAX_TEXT_CHARS + 1), vec![])), Input::Text);
    }

    #[test]
    fn empty_text_needs_an_attachment() {
        assert_eq!(field_of(content("", vec![])), Input::Text);
        assert_eq!(field_of(RawContent::default().validate()), Input::Text);
        let with_file = content("", vec![attachment("https://example.com/a.jpg", Some("a.jpg"), None)]);
        assert!(with_file.is_ok());
    }

    #[test]
    fn at_most_ten_attachments() {
        let one = attachment("https://example.com/a.jpg", Some("a.jpg"), None);
        assert!(content("x", vec![one.clone(); 10]).is_ok());
        assert_eq!(field_of(content("x", vec![one; 11])), Input::Attachments);
    }

    #[test]
    fn attachment_urls_must_be_absolute_web_urls() {
        for bad in [
            "/relative.jpg",
            "ftp://example.com/a.jpg",
            "javascript:alert(1)",
            "http://",
            "",
            "HTTpS://a.G*",
            "https://a.b/é",
        ] {
            let result = content("x", vec![attachment(bad, Some("a.jpg"), None)]);
            assert_eq!(field_of(result), attachment_part(0, AttachmentPart::Url), "{bad:?}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_CHARS));
        assert_eq!(
            field_of(content("x", vec![attachment(&long, Some("a.jpg"), None)])),
            attachment_part(0, AttachmentPart::Url)
        );
    }

    #[test]
    fn a_file_needs_an_extension_or_a_type() {
        let url = "https://example.com/file";
        assert!(content("x", vec![attachment(url, Some("test.jpg"), None)]).is_ok());
        assert!(content("x", vec![attachment(url, Some("test"), Some("image/jpeg"))]).is_ok());
        assert!(content("x", vec![attachment(url, None, Some("application/pdf"))]).is_ok());
        assert_eq!(
            field_of(content("x", vec![attachment(url, Some("test"), None)])),
            attachment_part(0, AttachmentPart::Name)
        );
        assert_eq!(field_of(content("x", vec![attachment(url, None, None)])), attachment_part(0, AttachmentPart::Name));
    }

    #[test]
    fn types_must_be_mime_types_and_names_are_bounded() {
        let url = "https://example.com/f";
        let second_bad = vec![attachment(url, Some("a.jpg"), None), attachment(url, Some("a.jpg"), Some("not a type"))];
        assert_eq!(field_of(content("x", second_bad)), attachment_part(1, AttachmentPart::MimeType));
        let long_name = format!("{}.jpg", "n".repeat(MAX_NAME_CHARS));
        assert_eq!(
            field_of(content("x", vec![attachment(url, Some(&long_name), None)])),
            attachment_part(0, AttachmentPart::Name)
        );
    }

    #[test]
    fn identifiers_are_positive_and_javascript_safe() {
        assert_eq!(check_id(1, Input::ThreadId).unwrap(), 1);
        assert!(check_id(0, Input::ThreadId).is_err());
        assert!(check_id(MAX_SAFE_ID + 1, Input::ThreadId).is_err());
        assert!(check_external_id("ext-1", Input::ExternalClientId).is_ok());
        assert!(check_external_id("  ", Input::ExternalClientId).is_err());
        assert!(check_external_id(&"x".repeat(256), Input::ExternalClientId).is_err());
    }
}
