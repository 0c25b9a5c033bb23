//! Request bodies in the seven content types of seed 002, each read into one JSON object of
//! fields: JSON, XML, a form, or a JSON Patch / merge patch applied to the default entity.

use serde_json::{Map, Value};

use super::xml;
use crate::http::{ApiRequest, media_type};
use crate::{Error, Result};

pub const CONTENT_TYPES: &[&str] = &[
    "application/json",
    "text/json",
    "application/xml",
    "text/xml",
    "application/x-www-form-urlencoded",
    "application/json-patch+json",
    "application/merge-patch+json",
];

/// The body's fields. `root` is the XML root element; `default` is the new entity that patches
/// apply to. No `Content-Type` reads as JSON.
pub fn fields(request: &ApiRequest, root: &str, default: Value) -> Result<Map<String, Value>> {
    let header = request.header("content-type").unwrap_or("application/json");
    let (essence, params) = media_type(header);
    let unsupported = || Error::UnsupportedMediaType(header.to_owned());
    if params.iter().any(|(name, value)| name == "charset" && !value.eq_ignore_ascii_case("utf-8")) {
        return Err(unsupported());
    }
    let body = request.body();
    let object = match essence.as_str() {
        "application/json" | "text/json" => json_object(body)?,
        "application/xml" | "text/xml" => xml::read_entity(body, root)?,
        "application/x-www-form-urlencoded" => form(body, root)?,
        "application/json-patch+json" => {
            let operations: json_patch::Patch =
                serde_json::from_value(json_value(body)?).map_err(|err| Error::InvalidInput {
                    code: "INVALID_PATCH",
                    message: format!("not a JSON Patch: {err}").into(),
                    field: None,
                })?;
            let mut document = default;
            json_patch::patch(&mut document, &operations).map_err(|err| Error::InvalidInput {
                code: "INVALID_PATCH",
                message: format!("the patch does not apply to the default entity: {err}").into(),
                field: None,
            })?;
            into_object(document)?
        }
        "application/merge-patch+json" => {
            let patch = Value::Object(json_object(body)?);
            let mut document = default;
            json_patch::merge(&mut document, &patch);
            into_object(document)?
        }
        _ => return Err(unsupported()),
    };
    Ok(canonical_names(object, &default_names(root)))
}

fn json_value(body: &[u8]) -> Result<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::InvalidInput {
            code: "INVALID_JSON",
            message: "the request body is empty".into(),
            field: None,
        });
    }
    serde_json::from_slice(body).map_err(|err| Error::InvalidInput {
        code: "INVALID_JSON",
        message: format!("malformed JSON: {err}").into(),
        field: None,
    })
}

fn json_object(body: &[u8]) -> Result<Map<String, Value>> {
    into_object(json_value(body)?)
}

fn into_object(value: Value) -> Result<Map<String, Value>> {
    match value {
        Value::Object(object) => Ok(object),
        _ => Err(Error::InvalidInput {
            code: "VALIDATION_FAILED",
            message: "the body must be an object".into(),
            field: None,
        }),
    }
}

/// Form fields; a field of the entity given twice is 400, an unknown one is ignored however often
/// it comes (as it is when it comes once).
fn form(body: &[u8], root: &str) -> Result<Map<String, Value>> {
    let mut fields = Map::new();
    for (name, value) in url::form_urlencoded::parse(body) {
        if fields.insert(name.to_string(), Value::String(value.into_owned())).is_some() && is_field_of(root, &name) {
            return Err(Error::invalid(name.to_string(), format!("{name} is given twice")));
        }
    }
    Ok(fields)
}

/// Whether `name` is (in any case) a field of the entity whose XML root is `root`.
pub(super) fn is_field_of(root: &str, name: &str) -> bool {
    default_names(root).iter().any(|known| known.eq_ignore_ascii_case(name))
}

fn default_names(root: &str) -> Vec<&'static str> {
    match root {
        "ChatMessage" => super::wire::MESSAGE_FIELDS.to_vec(),
        _ => super::wire::SESSION_FIELDS.to_vec(),
    }
}

/// Field names as SuperOffice spells them, whatever case the caller used (SuperOffice's own
/// readers ignore case); unknown fields are kept as they are, and ignored later.
fn canonical_names(object: Map<String, Value>, names: &[&'static str]) -> Map<String, Value> {
    object
        .into_iter()
        .map(|(name, value)| {
            let canonical =
                names.iter().find(|known| known.eq_ignore_ascii_case(&name)).map_or(name, |known| (*known).to_owned());
            (canonical, value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_field_given_twice_is_refused_but_unknown_ones_are_ignored_however_often_they_come() {
        let twice = form(b"Message=a&message=b&Message=c", "ChatMessage");
        assert!(matches!(twice, Err(Error::InvalidInput { field: Some(field), .. }) if field == "Message"));
        let unknown = form(b"x=1&x=2&Message=a", "ChatMessage").unwrap();
        assert_eq!(unknown["Message"], "a");
        assert!(form(b"CustomerAlias=a&CustomerAlias=b", "ChatSession").is_err());
    }
}
