//! A small XML tree for SAML documents, with namespace resolution and Exclusive XML
//! Canonicalization 1.0 (without comments) of a subtree, as XML signatures need it.
//!
//! The parser refuses document type declarations (no entity expansion of any kind), undefined
//! entities, unbound prefixes and trees deeper than [`MAX_DEPTH`]. Comments are dropped (they are
//! not part of the canonical form); processing instructions inside elements are kept.

use std::collections::BTreeMap;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// How deep elements may nest.
pub const MAX_DEPTH: usize = 64;

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed XML: {0}")]
pub struct XmlError(pub String);

fn err(m: impl Into<String>) -> XmlError {
    XmlError(m.into())
}

/// An element's index in its [`Document`].
pub type ElemId = usize;

#[derive(Debug, Clone)]
pub enum Node {
    Element(ElemId),
    Text(String),
    /// A processing instruction: target and data.
    Pi(String, String),
}

#[derive(Debug, Clone)]
pub struct Attr {
    /// As written (`ID`, `xml:lang`, `xsi:type`).
    pub qname: String,
    pub prefix: Option<String>,
    pub local: String,
    /// The normalized, unescaped value.
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct Element {
    pub qname: String,
    pub prefix: Option<String>,
    pub local: String,
    /// The namespace the element is in (`None`: no namespace).
    pub ns: Option<String>,
    pub attrs: Vec<Attr>,
    /// Namespace declarations on this element: prefix (`""` for the default) → URI (`""` undeclares
    /// the default).
    pub decls: Vec<(String, String)>,
    pub children: Vec<Node>,
    pub parent: Option<ElemId>,
}

impl Element {
    /// The value of the unprefixed attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.prefix.is_none() && a.local == name)
            .map(|a| a.value.as_str())
    }

    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.local == local && self.ns.as_deref() == Some(ns)
    }
}

/// A parsed document: its elements in document order (the root is `0`).
#[derive(Debug, Clone)]
pub struct Document {
    pub elems: Vec<Element>,
}

fn split_qname(q: &str) -> (Option<String>, String) {
    match q.split_once(':') {
        Some((p, l)) => (Some(p.to_string()), l.to_string()),
        None => (None, q.to_string()),
    }
}

/// An attribute value as an XML parser reports it: literal white space becomes a space, then
/// references are resolved.
fn attr_value(raw: &str) -> Result<String, XmlError> {
    let normalized: String = raw
        .replace("\r\n", " ")
        .chars()
        .map(|c| {
            if matches!(c, '\t' | '\n' | '\r') {
                ' '
            } else {
                c
            }
        })
        .collect();
    quick_xml::escape::unescape(&normalized)
        .map(|v| v.into_owned())
        .map_err(|e| err(e.to_string()))
}

impl Document {
    /// Parses a UTF-8 document.
    pub fn parse(text: &str) -> Result<Document, XmlError> {
        let mut reader = Reader::from_str(text);
        let config = reader.config_mut();
        config.trim_text(false);
        config.check_end_names = true;
        let mut doc = Document { elems: Vec::new() };
        let mut stack: Vec<ElemId> = Vec::new();
        let mut text_buf: Option<String> = None;
        let mut saw_root = false;
        loop {
            let ev = reader.read_event().map_err(|e| err(e.to_string()))?;
            // Text and references arrive in pieces: gather them into one text node.
            let is_text = matches!(ev, Event::Text(_) | Event::GeneralRef(_) | Event::CData(_));
            if !is_text {
                if let Some(t) = text_buf.take() {
                    match stack.last() {
                        Some(&parent) => doc.elems[parent].children.push(Node::Text(t)),
                        None if t.trim().is_empty() => {}
                        None => return Err(err("text outside the root element")),
                    }
                }
            }
            match ev {
                Event::Start(s) | Event::Empty(s) if stack.len() >= MAX_DEPTH => {
                    let _ = s;
                    return Err(err("elements nested too deeply"));
                }
                Event::Start(s) => {
                    if stack.is_empty() && saw_root {
                        return Err(err("more than one root element"));
                    }
                    saw_root = true;
                    let id = doc.push_element(&s, stack.last().copied())?;
                    stack.push(id);
                }
                Event::Empty(s) => {
                    if stack.is_empty() && saw_root {
                        return Err(err("more than one root element"));
                    }
                    saw_root = true;
                    doc.push_element(&s, stack.last().copied())?;
                }
                Event::End(_) => {
                    stack.pop();
                }
                Event::Text(t) => {
                    let s = t.xml10_content().map_err(|e| err(e.to_string()))?;
                    text_buf.get_or_insert_with(String::new).push_str(&s);
                }
                Event::CData(t) => {
                    let s = t.xml10_content().map_err(|e| err(e.to_string()))?;
                    text_buf.get_or_insert_with(String::new).push_str(&s);
                }
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref().map_err(|e| err(e.to_string()))? {
                        Some(c) => c.to_string(),
                        None => {
                            let name = r.decode().map_err(|e| err(e.to_string()))?;
                            resolve_predefined_entity(&name)
                                .ok_or_else(|| err(format!("undefined entity {name}")))?
                                .to_string()
                        }
                    };
                    text_buf.get_or_insert_with(String::new).push_str(&resolved);
                }
                Event::PI(p) => {
                    if let Some(&parent) = stack.last() {
                        let utf8 = |b: &[u8]| {
                            std::str::from_utf8(b)
                                .map(str::to_string)
                                .map_err(|e| err(e.to_string()))
                        };
                        let target = utf8(p.target())?;
                        let data = utf8(p.content())?.trim_start().to_string();
                        doc.elems[parent].children.push(Node::Pi(target, data));
                    }
                }
                Event::DocType(_) => return Err(err("document type declarations are refused")),
                Event::Comment(_) | Event::Decl(_) => {}
                Event::Eof => break,
            }
        }
        if !stack.is_empty() || doc.elems.is_empty() {
            return Err(err("unexpected end of document"));
        }
        // Every prefix must be bound.
        for id in 0..doc.elems.len() {
            let e = &doc.elems[id];
            let prefixes = e
                .prefix
                .iter()
                .chain(e.attrs.iter().filter_map(|a| a.prefix.as_ref()));
            for p in prefixes {
                if p != "xml" && doc.lookup(id, p).is_none() {
                    return Err(err(format!("unbound prefix {p}")));
                }
            }
        }
        for id in 0..doc.elems.len() {
            let ns = match &doc.elems[id].prefix {
                Some(p) if p == "xml" => Some(XML_NS.to_string()),
                Some(p) => doc.lookup(id, p).map(str::to_string),
                None => doc.lookup(id, "").map(str::to_string),
            };
            doc.elems[id].ns = ns.filter(|n| !n.is_empty());
        }
        Ok(doc)
    }

    fn push_element(
        &mut self,
        s: &BytesStart<'_>,
        parent: Option<ElemId>,
    ) -> Result<ElemId, XmlError> {
        let qname = std::str::from_utf8(s.name().as_ref())
            .map_err(|e| err(e.to_string()))?
            .to_string();
        let (prefix, local) = split_qname(&qname);
        let mut attrs = Vec::new();
        let mut decls = Vec::new();
        for a in s.attributes().with_checks(true) {
            let a = a.map_err(|e| err(e.to_string()))?;
            let key = std::str::from_utf8(a.key.as_ref())
                .map_err(|e| err(e.to_string()))?
                .to_string();
            let raw = std::str::from_utf8(&a.value).map_err(|e| err(e.to_string()))?;
            let value = attr_value(raw)?;
            if key == "xmlns" {
                decls.push((String::new(), value));
            } else if let Some(p) = key.strip_prefix("xmlns:") {
                if value.is_empty() {
                    return Err(err("a prefix cannot be undeclared"));
                }
                decls.push((p.to_string(), value));
            } else {
                let (prefix, local) = split_qname(&key);
                attrs.push(Attr {
                    qname: key,
                    prefix,
                    local,
                    value,
                });
            }
        }
        let id = self.elems.len();
        self.elems.push(Element {
            qname,
            prefix,
            local,
            ns: None,
            attrs,
            decls,
            children: Vec::new(),
            parent,
        });
        if let Some(p) = parent {
            self.elems[p].children.push(Node::Element(id));
        }
        Ok(id)
    }

    pub fn root(&self) -> &Element {
        &self.elems[0]
    }

    pub fn elem(&self, id: ElemId) -> &Element {
        &self.elems[id]
    }

    /// The URI `prefix` (`""`: the default namespace) is bound to at element `id`.
    pub fn lookup(&self, id: ElemId, prefix: &str) -> Option<&str> {
        let mut cur = Some(id);
        while let Some(i) = cur {
            let e = &self.elems[i];
            if let Some((_, uri)) = e.decls.iter().find(|(p, _)| p == prefix) {
                return Some(uri);
            }
            cur = e.parent;
        }
        None
    }

    /// The namespace URI of an attribute (`""` for an unprefixed one).
    fn attr_ns(&self, id: ElemId, a: &Attr) -> String {
        match a.prefix.as_deref() {
            None => String::new(),
            Some("xml") => XML_NS.to_string(),
            Some(p) => self.lookup(id, p).unwrap_or_default().to_string(),
        }
    }

    /// The element children of `id`.
    pub fn children(&self, id: ElemId) -> impl Iterator<Item = ElemId> + '_ {
        self.elems[id].children.iter().filter_map(|n| match n {
            Node::Element(c) => Some(*c),
            _ => None,
        })
    }

    /// The element children of `id` named `local` in namespace `ns`.
    pub fn children_named<'a>(
        &'a self,
        id: ElemId,
        ns: &'a str,
        local: &'a str,
    ) -> impl Iterator<Item = ElemId> + 'a {
        self.children(id)
            .filter(move |&c| self.elems[c].is(ns, local))
    }

    /// The first such child.
    pub fn child(&self, id: ElemId, ns: &str, local: &str) -> Option<ElemId> {
        self.children_named(id, ns, local).next()
    }

    /// The text content of `id` (its descendants' text, in order).
    pub fn text(&self, id: ElemId) -> String {
        let mut out = String::new();
        self.collect_text(id, &mut out);
        out
    }

    fn collect_text(&self, id: ElemId, out: &mut String) {
        for n in &self.elems[id].children {
            match n {
                Node::Text(t) => out.push_str(t),
                Node::Element(c) => self.collect_text(*c, out),
                Node::Pi(..) => {}
            }
        }
    }

    /// Whether `id` is `ancestor` or inside it.
    pub fn is_within(&self, id: ElemId, ancestor: ElemId) -> bool {
        let mut cur = Some(id);
        while let Some(i) = cur {
            if i == ancestor {
                return true;
            }
            cur = self.elems[i].parent;
        }
        false
    }

    /// Exclusive XML Canonicalization 1.0 (without comments) of the subtree at `id`, leaving out
    /// the subtree at `exclude` (the enveloped signature). `inclusive` is the transform's
    /// `InclusiveNamespaces PrefixList` (`#default` for the default namespace).
    pub fn exc_c14n(&self, id: ElemId, exclude: Option<ElemId>, inclusive: &[String]) -> String {
        let inclusive: Vec<String> = inclusive
            .iter()
            .map(|p| {
                if p == "#default" {
                    String::new()
                } else {
                    p.clone()
                }
            })
            .collect();
        let mut out = String::new();
        self.c14n_elem(id, exclude, &inclusive, &BTreeMap::new(), &mut out);
        out
    }

    fn c14n_elem(
        &self,
        id: ElemId,
        exclude: Option<ElemId>,
        inclusive: &[String],
        rendered: &BTreeMap<String, String>,
        out: &mut String,
    ) {
        let e = &self.elems[id];
        // The prefixes this element visibly uses, and the inclusive ones in scope.
        let mut used: Vec<String> = vec![e.prefix.clone().unwrap_or_default()];
        used.extend(e.attrs.iter().filter_map(|a| a.prefix.clone()));
        for p in inclusive {
            if p.is_empty() || self.lookup(id, p).is_some() {
                used.push(p.clone());
            }
        }
        let mut emit: BTreeMap<String, String> = BTreeMap::new();
        for p in used {
            if p == "xml" {
                continue;
            }
            let uri = self.lookup(id, &p).unwrap_or_default();
            let before = rendered.get(&p).map(String::as_str).unwrap_or_default();
            if uri != before {
                emit.insert(p, uri.to_string());
            }
        }
        out.push('<');
        out.push_str(&e.qname);
        for (p, uri) in &emit {
            if p.is_empty() {
                out.push_str(" xmlns=\"");
            } else {
                out.push_str(" xmlns:");
                out.push_str(p);
                out.push_str("=\"");
            }
            escape_attr(uri, out);
            out.push('"');
        }
        let mut attrs: Vec<(String, &Attr)> =
            e.attrs.iter().map(|a| (self.attr_ns(id, a), a)).collect();
        attrs.sort_by(|(na, a), (nb, b)| (na, &a.local).cmp(&(nb, &b.local)));
        for (_, a) in attrs {
            out.push(' ');
            out.push_str(&a.qname);
            out.push_str("=\"");
            escape_attr(&a.value, out);
            out.push('"');
        }
        out.push('>');
        let mut inner = rendered.clone();
        inner.extend(emit);
        for n in &e.children {
            match n {
                Node::Element(c) if Some(*c) == exclude => {}
                Node::Element(c) => self.c14n_elem(*c, exclude, inclusive, &inner, out),
                Node::Text(t) => escape_text(t, out),
                Node::Pi(target, data) => {
                    out.push_str("<?");
                    out.push_str(target);
                    if !data.is_empty() {
                        out.push(' ');
                        out.push_str(data);
                    }
                    out.push_str("?>");
                }
            }
        }
        out.push_str("</");
        out.push_str(&e.qname);
        out.push('>');
    }
}

fn escape_text(t: &str, out: &mut String) {
    for c in t.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

fn escape_attr(t: &str, out: &mut String) {
    for c in t.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c14n(doc: &str, path: &[usize]) -> String {
        let d = Document::parse(doc).unwrap();
        let mut id = 0;
        for &i in path {
            id = d.children(id).nth(i).unwrap();
        }
        d.exc_c14n(id, None, &[])
    }

    #[test]
    fn empty_elements_are_expanded_and_attributes_sorted() {
        assert_eq!(
            c14n(
                r#"<?xml version="1.0"?><a b="2" a="1" xmlns="urn:x"><c/></a>"#,
                &[]
            ),
            r#"<a xmlns="urn:x" a="1" b="2"><c></c></a>"#
        );
    }

    #[test]
    fn namespaces_are_rendered_where_visibly_used() {
        // The exclusive c14n example of the spec: n1 is not used by n1:elem2's subtree copy
        // beyond its own name, n2 is not used at all.
        let doc = r#"<n0:local xmlns:n0="foo:bar" xmlns:n3="ftp://example.org"><n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"/></n1:elem2></n0:local>"#;
        assert_eq!(
            c14n(doc, &[0]),
            r#"<n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"></n3:stuff></n1:elem2>"#
        );
        let doc = r#"<n2:pdu xmlns:n1="http://example.com" xmlns:n2="http://foo.example" xml:lang="fr" xml:foo="bar"><n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n1:stuff/></n1:elem2></n2:pdu>"#;
        assert_eq!(
            c14n(doc, &[0]),
            r#"<n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n1:stuff></n1:stuff></n1:elem2>"#
        );
    }

    #[test]
    fn attributes_sort_by_namespace_then_name_and_values_are_escaped() {
        let doc = "<e xmlns:b=\"urn:b\" xmlns:a=\"urn:a\" b:x=\"1\" a:y=\"2\" z=\"&quot;&#xA;\t&lt;\">t &amp; &lt; &gt;\r\n</e>";
        assert_eq!(
            c14n(doc, &[]),
            "<e xmlns:a=\"urn:a\" xmlns:b=\"urn:b\" z=\"&quot;&#xA; &lt;\" a:y=\"2\" b:x=\"1\">t &amp; &lt; &gt;\n</e>"
        );
    }

    #[test]
    fn default_namespace_is_undeclared_when_needed() {
        let doc = r#"<a xmlns="urn:a"><b xmlns=""><c/></b></a>"#;
        assert_eq!(
            c14n(doc, &[]),
            r#"<a xmlns="urn:a"><b xmlns=""><c></c></b></a>"#
        );
        assert_eq!(c14n(doc, &[0]), r#"<b><c></c></b>"#);
    }

    #[test]
    fn inclusive_prefixes_are_rendered_where_in_scope() {
        let d = Document::parse(r#"<p:a xmlns:p="urn:p" xmlns:q="urn:q"><p:b/></p:a>"#).unwrap();
        assert_eq!(
            d.exc_c14n(0, None, &["q".to_string()]),
            r#"<p:a xmlns:p="urn:p" xmlns:q="urn:q"><p:b></p:b></p:a>"#
        );
    }

    #[test]
    fn hostile_documents_are_refused() {
        assert!(Document::parse(r#"<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>"#).is_err());
        assert!(Document::parse("<a>&x;</a>").is_err());
        assert!(Document::parse("<p:a/>").is_err());
        assert!(Document::parse("<a></b>").is_err());
        assert!(Document::parse("<a/><b/>").is_err());
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(Document::parse(&deep).is_err());
    }
}
