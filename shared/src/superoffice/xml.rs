//! XML bodies: a flat entity element (`<ChatMessage><Message>hi</Message>...</ChatMessage>`) read
//! into JSON values, and JSON values written as XML. A DTD is refused before anything else is
//! read: no entity is ever expanded and no file or URL is ever fetched.

use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use quick_xml::writer::Writer;
use serde_json::{Map, Value};

use crate::{Error, Result};

const XSI: &[u8] = b"http://www.w3.org/2001/XMLSchema-instance";

fn malformed(detail: impl std::fmt::Display) -> Error {
    Error::InvalidInput { code: "INVALID_XML", message: format!("malformed XML: {detail}").into(), field: None }
}

/// The children of the root element `root` (any namespace) as field → text (`null` for
/// `xsi:nil="true"`).
pub fn read_entity(body: &[u8], root: &str) -> Result<Map<String, Value>> {
    let text = std::str::from_utf8(body).map_err(|_| malformed("the document is not UTF-8"))?;
    let mut reader = NsReader::from_str(text);
    let mut fields = Map::new();
    let mut depth = 0usize;
    let mut current: Option<(String, String, bool)> = None;
    loop {
        match reader.read_resolved_event().map_err(malformed)? {
            (_, Event::DocType(_)) => {
                return Err(Error::InvalidInput {
                    code: "INVALID_XML",
                    message: "XML with a DTD or entity declarations is not accepted".into(),
                    field: None,
                });
            }
            (_, Event::Start(start)) => {
                depth += 1;
                let name = local_name(&start);
                match depth {
                    1 => check_root(&name, root)?,
                    2 => current = Some((name, String::new(), is_nil(&reader, &start))),
                    _ => return Err(malformed(format!("<{name}> is nested too deep; fields hold text only"))),
                }
            }
            (_, Event::Empty(empty)) => {
                let name = local_name(&empty);
                match depth {
                    0 => {
                        check_root(&name, root)?;
                        return Ok(fields);
                    }
                    1 => insert(
                        &mut fields,
                        root,
                        name,
                        if is_nil(&reader, &empty) { Value::Null } else { Value::from("") },
                    )?,
                    _ => return Err(malformed(format!("<{name}> is nested too deep; fields hold text only"))),
                }
            }
            (_, Event::Text(text)) => {
                let text = text.decode().map_err(malformed)?;
                match current.as_mut() {
                    Some((_, value, _)) => value.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err(malformed("text outside a field")),
                }
            }
            (_, Event::CData(data)) => match current.as_mut() {
                Some((_, value, _)) => value.push_str(&String::from_utf8_lossy(&data)),
                None => return Err(malformed("text outside a field")),
            },
            (_, Event::End(_)) => {
                if depth == 2
                    && let Some((name, value, nil)) = current.take()
                {
                    insert(&mut fields, root, name, if nil { Value::Null } else { Value::String(value) })?;
                }
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Ok(fields);
                }
            }
            (_, Event::Eof) => return Err(malformed("the document ends early")),
            (_, Event::Decl(_) | Event::PI(_) | Event::Comment(_)) => {}
            (ResolveResult::Unknown(prefix), _) => {
                return Err(malformed(format!("unknown namespace prefix {}", String::from_utf8_lossy(&prefix))));
            }
            (_, Event::GeneralRef(reference)) => {
                // Only the five predefined entities and character references are known.
                let resolved =
                    reference.resolve_char_ref().ok().flatten().map(String::from).or_else(|| {
                        match reference.as_ref() {
                            b"lt" => Some("<".into()),
                            b"gt" => Some(">".into()),
                            b"amp" => Some("&".into()),
                            b"apos" => Some("'".into()),
                            b"quot" => Some("\"".into()),
                            _ => None,
                        }
                    });
                match (resolved, current.as_mut()) {
                    (Some(text), Some((_, value, _))) => value.push_str(&text),
                    _ => {
                        return Err(malformed(format!(
                            "unknown entity &{};",
                            String::from_utf8_lossy(reference.as_ref())
                        )));
                    }
                }
            }
        }
    }
}

fn local_name(start: &BytesStart) -> String {
    String::from_utf8_lossy(start.local_name().as_ref()).into_owned()
}

fn is_nil(reader: &NsReader<&[u8]>, start: &BytesStart) -> bool {
    start.attributes().flatten().any(|attribute| {
        let (namespace, local) = reader.resolve_attribute(attribute.key);
        local.as_ref() == b"nil"
            && matches!(namespace, ResolveResult::Bound(ns) if ns.as_ref() == XSI)
            && attribute.value.as_ref() == b"true"
    })
}

fn check_root(name: &str, root: &str) -> Result<()> {
    if name == root {
        Ok(())
    } else {
        Err(Error::InvalidInput {
            code: "INVALID_XML",
            message: format!("the root element must be <{root}>, not <{name}>").into(),
            field: None,
        })
    }
}

/// Adds a field; a field of the entity given twice is 400, an unknown one is ignored however
/// often it comes (as it is when it comes once).
fn insert(fields: &mut Map<String, Value>, root: &str, name: String, value: Value) -> Result<()> {
    if fields.contains_key(&name) {
        if !super::body::is_field_of(root, &name) {
            return Ok(());
        }
        return Err(Error::invalid(name.clone(), format!("{name} is given twice")));
    }
    fields.insert(name, value);
    Ok(())
}

/// `value` as the element `root`: object fields become child elements in order, arrays repeat
/// `item` elements, `null`s are left out.
pub fn write(root: &str, item: &str, value: &Value) -> String {
    let mut writer = Writer::new(Vec::new());
    let _ = writer.write_event(Event::Decl(quick_xml::events::BytesDecl::new("1.0", Some("utf-8"), None)));
    write_element(&mut writer, root, item, value);
    String::from_utf8(writer.into_inner()).unwrap_or_default()
}

fn write_element(writer: &mut Writer<Vec<u8>>, name: &str, item: &str, value: &Value) {
    let _ = writer.write_event(Event::Start(BytesStart::new(name)));
    match value {
        Value::Object(fields) => {
            for (field, value) in fields.iter().filter(|(_, value)| !value.is_null()) {
                write_element(writer, field, item, value);
            }
        }
        Value::Array(items) => {
            for value in items {
                write_element(writer, item, item, value);
            }
        }
        Value::String(text) => {
            let _ = writer.write_event(Event::Text(BytesText::new(text)));
        }
        other => {
            let _ = writer.write_event(Event::Text(BytesText::new(&other.to_string())));
        }
    }
    let _ = writer.write_event(Event::End(BytesEnd::new(name)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(xml: &str) -> Result<Map<String, Value>> {
        read_entity(xml.as_bytes(), "ChatMessage")
    }

    #[test]
    fn fields_are_read_with_or_without_a_namespace() {
        let plain = fields("<ChatMessage><Message>a &amp; b</Message><Type>Invalid</Type></ChatMessage>").unwrap();
        assert_eq!(Value::Object(plain), json!({"Message": "a & b", "Type": "Invalid"}));
        let default_ns = fields(r#"<?xml version="1.0"?><ChatMessage xmlns="http://www.superoffice.net/ws/crm/NetServer/Services88"><Message>hi</Message></ChatMessage>"#).unwrap();
        assert_eq!(default_ns["Message"], "hi");
        let prefixed = fields(r#"<so:ChatMessage xmlns:so="urn:x" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><so:Message>hi</so:Message><so:WhenPosted i:nil="true"/></so:ChatMessage>"#).unwrap();
        assert_eq!(Value::Object(prefixed), json!({"Message": "hi", "WhenPosted": null}));
    }

    #[test]
    fn dtds_entities_and_other_roots_are_refused() {
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><ChatMessage><Message>&x;</Message></ChatMessage>"#;
        let laughs = r#"<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><ChatMessage><Message>&lol2;</Message></ChatMessage>"#;
        for bad in [
            xxe,
            laughs,
            "<ChatMessage><Message>&x;</Message></ChatMessage>",
            "<Other/>",
            "<ChatMessage><Message>",
            "not xml",
        ] {
            assert!(matches!(fields(bad), Err(Error::InvalidInput { .. })), "{bad}");
        }
    }

    #[test]
    fn a_field_given_twice_is_refused_but_unknown_elements_are_ignored_however_often_they_come() {
        let twice = fields("<ChatMessage><Message>a</Message><Message>b</Message></ChatMessage>");
        assert!(matches!(twice, Err(Error::InvalidInput { field: Some(field), .. }) if field == "Message"));
        let unknown = fields("<ChatMessage><_>x</_><_>y</_><Message>a</Message></ChatMessage>").unwrap();
        assert_eq!(unknown["Message"], "a");
    }

    #[test]
    fn values_are_written_in_order_and_escaped() {
        let xml = write("ChatMessage", "ChatMessage", &json!({"Id": 1, "Message": "<b>", "Gone": null}));
        assert_eq!(
            xml,
            r#"<?xml version="1.0" encoding="utf-8"?><ChatMessage><Id>1</Id><Message>&lt;b&gt;</Message></ChatMessage>"#
        );
    }
}
