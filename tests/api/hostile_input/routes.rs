//! Routes and schemas, from the OpenAPI document.

use reqwest::Method;
use serde_json::{json, Value};

/// A write route of the OpenAPI document.
#[derive(Debug, Clone)]
pub(super) struct Route {
    pub(super) method: Method,
    /// As documented: `/api/v1/kit-issues/{id}/void`.
    pub(super) template: String,
    /// The request body's schema, e.g. `VoidRequest`.
    pub(super) schema: Option<String>,
    /// Needs a bearer token.
    pub(super) secured: bool,
}

impl Route {
    pub(super) fn label(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    /// `/api/v1/kit-issues` for `/api/v1/kit-issues/{id}/void`; None without an `{id}`.
    pub(super) fn collection(&self) -> Option<String> {
        self.template.find("/{id}").map(|at| self.template[..at].to_owned())
    }
}

pub(super) fn write_routes(doc: &Value) -> Vec<Route> {
    let mut routes = Vec::new();
    for (template, operations) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in operations.as_object().expect("operations") {
            let method = match method.as_str() {
                "post" => Method::POST,
                "put" => Method::PUT,
                "patch" => Method::PATCH,
                "delete" => Method::DELETE,
                _ => continue,
            };
            let schema = operation["requestBody"]["content"]
                .as_object()
                .and_then(|content| content.values().next())
                .and_then(|media| media["schema"]["$ref"].as_str())
                .map(|r| r.rsplit('/').next().unwrap_or(r).to_owned());
            // `[]` or an empty requirement `{}` means no sign-in is needed.
            let requirements = operation["security"].as_array().cloned().unwrap_or_default();
            let secured =
                !requirements.is_empty() && requirements.iter().all(|r| r.as_object().is_some_and(|o| !o.is_empty()));
            routes.push(Route { method, template: template.clone(), schema, secured });
        }
    }
    assert!(routes.len() >= 20, "the OpenAPI document lists only {} write routes", routes.len());
    routes
}

/// What a JSON field holds, as far as hostile cases go.
#[derive(Debug, Clone)]
pub(super) enum Kind {
    Text { write_only: bool },
    Uuid,
    DateTime,
    Date,
    Integer,
    Number,
    Boolean,
    Enum(Vec<String>),
    Array(Box<Kind>),
    Object(Value),
    Any,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Seg {
    Key(String),
    Index(usize),
}

/// A field of a request body, possibly nested (`replacement.quantity`, `kit_issues[0].setting`).
#[derive(Debug, Clone)]
pub(super) struct Field {
    pub(super) path: Vec<Seg>,
    pub(super) kind: Kind,
}

impl Field {
    pub(super) fn name(&self) -> String {
        let mut name = String::new();
        for seg in &self.path {
            match seg {
                Seg::Key(key) if name.is_empty() => name.push_str(key),
                Seg::Key(key) => name.push_str(&format!(".{key}")),
                Seg::Index(i) => name.push_str(&format!("[{i}]")),
            }
        }
        name
    }

    pub(super) fn last_key(&self) -> &str {
        self.path
            .iter()
            .rev()
            .find_map(|s| match s {
                Seg::Key(k) => Some(k.as_str()),
                Seg::Index(_) => None,
            })
            .unwrap_or_default()
    }
}

pub(super) struct Schemas<'a>(pub(super) &'a serde_json::Map<String, Value>);

impl<'a> Schemas<'a> {
    pub(super) fn named(&self, name: &str) -> &'a Value {
        self.0.get(name).unwrap_or_else(|| panic!("no schema {name} in the OpenAPI document"))
    }

    pub(super) fn resolve(&self, schema: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => self.resolve(self.named(r.rsplit('/').next().unwrap_or(r))),
            None => schema,
        }
    }

    pub(super) fn kind_of(&self, schema: &Value) -> Kind {
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            return self.kind_of(self.named(r.rsplit('/').next().unwrap_or(r)));
        }
        for combinator in ["oneOf", "anyOf"] {
            if let Some(options) = schema.get(combinator).and_then(Value::as_array) {
                if let Some(option) = options.iter().find(|o| o.get("type") != Some(&json!("null"))) {
                    return match (self.kind_of(option), schema.get("writeOnly")) {
                        (Kind::Text { .. }, Some(Value::Bool(true))) => Kind::Text { write_only: true },
                        (kind, _) => kind,
                    };
                }
            }
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            return Kind::Enum(values.iter().filter_map(Value::as_str).map(str::to_owned).collect());
        }
        let ty = match schema.get("type") {
            Some(Value::String(t)) => t.as_str(),
            Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or(""),
            _ => "",
        };
        match (ty, schema.get("format").and_then(Value::as_str)) {
            ("string", Some("uuid")) => Kind::Uuid,
            ("string", Some("date-time")) => Kind::DateTime,
            ("string", Some("date")) => Kind::Date,
            ("string", _) => Kind::Text { write_only: schema.get("writeOnly") == Some(&json!(true)) },
            ("integer", _) => Kind::Integer,
            ("number", _) => Kind::Number,
            ("boolean", _) => Kind::Boolean,
            ("array", _) => Kind::Array(Box::new(self.kind_of(&schema["items"]))),
            ("object", _) => Kind::Object(schema.clone()),
            _ => Kind::Any,
        }
    }

    /// Every field of `schema`, and of the objects nested in `base` under it.
    pub(super) fn fields(&self, schema: &Value, base: &Value, prefix: &[Seg], out: &mut Vec<Field>) {
        let schema = self.resolve(schema);
        let Some(properties) = schema["properties"].as_object() else { return };
        for (name, property) in properties {
            let mut path = prefix.to_vec();
            path.push(Seg::Key(name.clone()));
            let kind = self.kind_of(property);
            match (&kind, base.get(name)) {
                (Kind::Object(inner), Some(value)) if value.is_object() => self.fields(inner, value, &path, out),
                (Kind::Array(item), Some(Value::Array(items))) if !items.is_empty() => {
                    if let Kind::Object(inner) = item.as_ref() {
                        let mut element = path.clone();
                        element.push(Seg::Index(0));
                        self.fields(inner, &items[0], &element, out);
                    }
                }
                _ => {}
            }
            out.push(Field { path, kind });
        }
    }

    pub(super) fn required(&self, name: &str) -> bool {
        self.named(name)["required"].as_array().is_some_and(|r| !r.is_empty())
    }
}
