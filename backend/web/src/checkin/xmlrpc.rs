//! The little of XML-RPC that `report_mirror` speaks: a `methodCall` with string parameters in, a string or a
//! fault out (the format Python's `xmlrpc.client` sends and reads).

use quick_xml::Reader;
use quick_xml::escape::{escape, resolve_predefined_entity};
use quick_xml::events::Event;

/// A parsed method call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub method: String,
    /// The parameters that are strings (`<string>` or an untyped `<value>`); `None` for any other type.
    pub params: Vec<Option<String>>,
}

/// Parses a `methodCall` document. Errors say what is wrong, for the fault reply.
pub fn parse_call(xml: &str) -> Result<Call, String> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut method = None;
    let mut params: Vec<Option<String>> = Vec::new();
    // Within a <value>: whether a type element was seen, and whether it was <string>.
    let mut typed: Option<bool> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("malformed XML-RPC request at byte {}: {e}", reader.buffer_position()))?;
        match event {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_owned();
                match (stack.last().map(String::as_str), name.as_str()) {
                    (None, "methodCall") | (Some("methodCall"), "methodName" | "params") => {}
                    (Some("params"), "param") | (Some("param"), "value") => {
                        if name == "value" {
                            typed = None;
                        }
                    }
                    (Some("value"), t) if stack.len() == 4 => typed = Some(t == "string"),
                    (None, other) => return Err(format!("not an XML-RPC request: <{other}>")),
                    // Structs, arrays and the like inside a value: not a string; skipped.
                    _ if stack.len() >= 4 => {}
                    (Some(parent), other) => return Err(format!("unexpected <{other}> in <{parent}>")),
                }
                stack.push(name);
                text.clear();
            }
            Event::Empty(e) => {
                let name = e.local_name().as_ref().to_owned();
                match (stack.len(), name.as_str()) {
                    (0, other) => return Err(format!("not an XML-RPC request: <{other}/>")),
                    (3, "value") => params.push(Some(String::new())),
                    (4, "string") => {
                        typed = Some(true);
                        params.push(Some(String::new()));
                    }
                    (4, _) => typed = Some(false),
                    _ => {}
                }
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::CData(t) => text.push_str(t.as_ref()),
            Event::GeneralRef(r) => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    text.push(c);
                } else {
                    let name = r.xml10_content();
                    let Some(s) = resolve_predefined_entity(&name) else {
                        return Err(format!("unknown entity &{name}; in the XML-RPC request"));
                    };
                    text.push_str(s);
                }
            }
            Event::End(_) => {
                let Some(name) = stack.pop() else {
                    return Err("malformed XML-RPC request: unbalanced end tag".into());
                };
                match (stack.len(), name.as_str()) {
                    (1, "methodName") => method = Some(text.trim().to_owned()),
                    (4, "string") => params.push(Some(std::mem::take(&mut text))),
                    (3, "value") => match typed {
                        None => params.push(Some(std::mem::take(&mut text))),
                        Some(true) => {}
                        Some(false) => params.push(None),
                    },
                    _ => {}
                }
                if name != "string" {
                    text.clear();
                }
            }
            Event::DocType(_) => return Err("a DOCTYPE is not allowed in an XML-RPC request".into()),
            Event::Eof => {
                if !stack.is_empty() {
                    return Err("malformed XML-RPC request: unexpected end of document".into());
                }
                break;
            }
            _ => {}
        }
    }
    if method.is_none() && params.is_empty() && !xml.contains("<methodCall") {
        return Err("malformed XML-RPC request: no <methodCall> element".into());
    }
    let method = method.ok_or("the XML-RPC request names no method")?;
    Ok(Call { method, params })
}

/// What a method response held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The first string value.
    Value(String),
    /// A fault: code and message.
    Fault(i64, String),
}

/// Parses a `methodResponse` (the client side: `mirrorvane report`).
pub fn parse_response(xml: &str) -> Result<Answer, String> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut member = String::new();
    let (mut value, mut code, mut message) = (None, 0i64, None);
    let mut fault = false;
    loop {
        match reader
            .read_event()
            .map_err(|e| format!("malformed XML-RPC response: {e}"))?
        {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_owned();
                if stack.is_empty() && name != "methodResponse" {
                    return Err(format!("not an XML-RPC response: <{name}>"));
                }
                fault |= name == "fault";
                stack.push(name);
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::CData(t) => text.push_str(t.as_ref()),
            Event::GeneralRef(r) => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    text.push(c);
                } else if let Some(s) = resolve_predefined_entity(&r.xml10_content()) {
                    text.push_str(s);
                }
            }
            Event::End(_) => {
                let name = stack.pop().unwrap_or_default();
                match name.as_str() {
                    "name" => member = text.trim().to_owned(),
                    "int" | "i4" if fault && member == "faultCode" => code = text.trim().parse().unwrap_or(0),
                    "string" | "value" if fault && member == "faultString" && message.is_none() => {
                        message = Some(text.clone());
                    }
                    "string" | "value" if !fault && value.is_none() => value = Some(text.clone()),
                    _ => {}
                }
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    match (fault, value, message) {
        (true, _, m) => Ok(Answer::Fault(code, m.unwrap_or_default())),
        (false, Some(v), _) => Ok(Answer::Value(v)),
        (false, None, _) => Err("the XML-RPC response holds no value".into()),
    }
}

/// A method response holding one string.
pub fn response(value: &str) -> String {
    format!(
        "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><string>{}</string></value>\n</param>\n\
         </params>\n</methodResponse>\n",
        escape(value)
    )
}

/// A fault response.
pub fn fault(code: i32, message: &str) -> String {
    format!(
        "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n\
         <value><int>{code}</int></value>\n</member>\n<member>\n<name>faultString</name>\n\
         <value><string>{}</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n",
        escape(message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_python_sends() {
        // xmlrpc.client.dumps(("abc",), "checkin")
        let xml = "<?xml version='1.0'?>\n<methodCall>\n<methodName>checkin</methodName>\n<params>\n<param>\n\
                   <value><string>QlpoOTFBWSZTWQ==</string></value>\n</param>\n</params>\n</methodCall>\n";
        assert_eq!(
            parse_call(xml).unwrap(),
            Call {
                method: "checkin".into(),
                params: vec![Some("QlpoOTFBWSZTWQ==".into())]
            }
        );
        let untyped = "<methodCall><methodName>checkin</methodName><params><param><value>a&amp;b&#65;</value>\
                       </param><param><value><int>1</int></value></param><param><value><string/></value></param>\
                       </params></methodCall>";
        assert_eq!(
            parse_call(untyped).unwrap().params,
            [Some("a&bA".to_owned()), None, Some(String::new())]
        );
    }

    #[test]
    fn refusals() {
        for bad in [
            "",
            "not xml at all",
            "<methodCall><methodName>checkin</methodName><params>",
            "<html><body/></html>",
            "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'>]><methodCall/>",
            "<methodCall><params/></methodCall>",
            "<methodCall><methodName>x</methodName><params><param><value>&bomb;</value></param></params></methodCall>",
        ] {
            assert!(parse_call(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn responses_read_back() {
        assert_eq!(
            parse_response(&response("ok & done")),
            Ok(Answer::Value("ok & done".into()))
        );
        assert_eq!(
            parse_response(&fault(2, "no <way>")),
            Ok(Answer::Fault(2, "no <way>".into()))
        );
        assert!(parse_response("<html/>").is_err());
    }

    #[test]
    fn replies_escape() {
        assert!(response("a < b & c").contains("<string>a &lt; b &amp; c</string>"));
        let f = fault(1, "bad <x>");
        assert!(f.contains("<int>1</int>") && f.contains("bad &lt;x&gt;"), "{f}");
    }
}
