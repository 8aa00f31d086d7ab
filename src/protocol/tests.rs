//! Unit tests of the generated protocol layer against the model's shapes and AWS's wording.

use super::iam;
use super::query::{FromParams, Params, Validator};
use super::xml::{success_envelope, ToXml, XmlWriter};

fn decode<T: FromParams>(pairs: &[(&str, &str)]) -> Result<T, String> {
    let p = Params::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let mut v = Validator::new(false);
    let x = T::from_params(&p, "", "", &mut v);
    v.finish().map(|_| x).map_err(|e| e.message)
}

#[test]
fn decodes_nested_lists_of_structures() {
    let r: iam::CreateUserRequest = decode(&[
        ("UserName", "alice"),
        ("Path", "/eng/"),
        ("Tags.member.1.Key", "team"),
        ("Tags.member.1.Value", "core"),
        ("Tags.member.2.Key", "cost"),
        ("Tags.member.2.Value", "42"),
    ])
    .unwrap();
    assert_eq!(r.user_name, "alice");
    assert_eq!(r.path.as_deref(), Some("/eng/"));
    let tags = r.tags.unwrap();
    assert_eq!(tags.len(), 2);
    assert_eq!(tags[1].key, "cost");
    assert_eq!(tags[1].value, "42");
}

#[test]
fn empty_list_marker_is_an_empty_list() {
    let r: iam::CreateUserRequest = decode(&[("UserName", "a"), ("Tags", "")]).unwrap();
    assert_eq!(r.tags, Some(vec![]));
    let r: iam::CreateUserRequest = decode(&[("UserName", "a")]).unwrap();
    assert_eq!(r.tags, None);
}

#[test]
fn validation_messages_use_aws_wording() {
    let e = decode::<iam::CreateUserRequest>(&[("UserName", "bad name")]).unwrap_err();
    assert_eq!(
        e,
        "1 validation error detected: Value at 'userName' failed to satisfy constraint: \
         Member must satisfy regular expression pattern: [\\w+=,.@-]+"
    );
    let e = decode::<iam::CreateUserRequest>(&[("Path", "nope")]).unwrap_err();
    assert_eq!(
        e,
        "2 validation errors detected: Value at 'path' failed to satisfy constraint: Member must \
         satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F); \
         Value null at 'userName' failed to satisfy constraint: Member must not be null"
    );
    let long = "a".repeat(129);
    let e = decode::<iam::GetUserRequest>(&[("UserName", long.as_str())]).unwrap_err();
    assert!(
        e.contains("Member must have length less than or equal to 128"),
        "{e}"
    );
    let e = decode::<iam::ListUsersRequest>(&[("MaxItems", "0")]).unwrap_err();
    assert!(e.contains("Value at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1"), "{e}");
    let e = decode::<iam::UpdateAccessKeyRequest>(&[
        ("AccessKeyId", "AKIAAAAAAAAAAAAAAAAA"),
        ("Status", "On"),
    ])
    .unwrap_err();
    assert!(
        e.contains(
            "Value at 'status' failed to satisfy constraint: Member must satisfy enum value set"
        ),
        "{e}"
    );
}

#[test]
fn ascii_word_class_like_java() {
    // Java's \w is ASCII only: a non-ASCII letter is not a valid user name character.
    assert!(decode::<iam::GetUserRequest>(&[("UserName", "émile")]).is_err());
    assert!(decode::<iam::GetUserRequest>(&[("UserName", "a+b=c,d.e@f-g_h")]).is_ok());
}

#[test]
fn renders_members_in_model_order_with_member_wrapping() {
    let out = iam::ListUserTagsResponse {
        tags: vec![iam::Tag {
            key: "k".into(),
            value: "a<b".into(),
        }],
        is_truncated: Some(false),
        marker: None,
    };
    let mut w = XmlWriter::default();
    out.write_members(&mut w);
    assert_eq!(
        w.into_string(),
        "<Tags><member><Key>k</Key><Value>a&lt;b</Value></member></Tags><IsTruncated>false</IsTruncated>"
    );
    let env = success_envelope("ListUserTags", iam::XMLNS, true, &out, "rid");
    assert!(env.starts_with(
        "<ListUserTagsResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ListUserTagsResult><Tags>"
    ));
    assert!(env.ends_with("</ListUserTagsResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></ListUserTagsResponse>"));
    let env = success_envelope("DeleteUser", iam::XMLNS, false, &(), "rid");
    assert_eq!(env, "<DeleteUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></DeleteUserResponse>");
}

#[test]
fn every_model_pattern_compiles() {
    // Forces every lazily compiled pattern through a decoder of each input shape.
    assert_eq!(iam::OPERATIONS.len(), 176);
    assert_eq!(super::sts::OPERATIONS.len(), 11);
}

#[test]
fn text_xml_cannot_carry_becomes_a_replacement_character() {
    let mut w = XmlWriter::default();
    w.elem("Message", "Value 'a\u{0}b\u{7}c\u{FFFF}' <&> \t\r\n ok é");
    assert_eq!(
        w.into_string(),
        "<Message>Value &apos;a\u{FFFD}b\u{FFFD}c\u{FFFD}&apos; &lt;&amp;&gt; \t\r\n ok é</Message>"
    );
}

#[test]
fn text_is_escaped_as_quick_xml_escapes_it() {
    for s in [
        "plain",
        "a<b>&'\"c",
        "ünïcødé ✓ 𝄞",
        "tab\tnl\ncr\r",
        "",
        "\u{FFFD}\u{FFFC}",
    ] {
        let mut w = XmlWriter::default();
        w.text(s);
        assert_eq!(w.into_string(), quick_xml::escape::escape(s), "{s:?}");
    }
    let mut w = XmlWriter::default();
    w.text("a\u{0}b\u{1F}c\u{FFFE}d\u{FFFF}<");
    assert_eq!(w.into_string(), "a\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{FFFD}&lt;");
}

#[test]
fn timestamps_are_written_as_aws_writes_them() {
    use time::macros::datetime;
    for (t, text) in [
        (datetime!(2026-11-27 20:58:25 UTC), "2026-11-27T20:58:25Z"),
        (datetime!(0001-01-02 03:04:05 UTC), "0001-01-02T03:04:05Z"),
        (
            datetime!(2030-12-31 23:59:59 +02:00),
            "2030-12-31T21:59:59Z",
        ),
    ] {
        assert_eq!(super::xml::format_timestamp(&t), text);
    }
}
