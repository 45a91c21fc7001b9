//! What a request that no route takes is told. Each route is registered
//! for its own method, so a known path asked with another method lands
//! here too: it gets 405 with `Allow`, read from the same document the
//! routes made; anything else is 404.

use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use utoipa::openapi::OpenApi;

use super::problem::ApiError;
use crate::domain::error::{Code, Error};

/// Every documented path, as segments (`None` for a `{parameter}`), with the methods it answers.
pub struct KnownPaths(Vec<(Vec<Option<String>>, Vec<Method>)>);

impl KnownPaths {
    pub fn of(document: &OpenApi) -> Self {
        let paths = document
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path
                    .split('/')
                    .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_owned()))
                    .collect();
                let methods = [
                    (&item.get, Method::GET),
                    (&item.put, Method::PUT),
                    (&item.post, Method::POST),
                    (&item.delete, Method::DELETE),
                    (&item.options, Method::OPTIONS),
                    (&item.head, Method::HEAD),
                    (&item.patch, Method::PATCH),
                    (&item.trace, Method::TRACE),
                ]
                .into_iter()
                .filter(|(operation, _)| operation.is_some())
                .map(|(_, method)| method)
                .collect();
                (segments, methods)
            })
            .collect();
        Self(paths)
    }

    /// The methods a path answers, if any route has it.
    pub fn methods_of(&self, path: &str) -> Option<&[Method]> {
        let asked: Vec<&str> = path.split('/').collect();
        self.0
            .iter()
            .find(|(segments, _)| {
                segments.len() == asked.len()
                    && segments.iter().zip(&asked).all(|(segment, part)| match segment {
                        Some(literal) => literal == part,
                        None => !part.is_empty(),
                    })
            })
            .map(|(_, methods)| methods.as_slice())
    }
}

/// The default service: 405 for a known path asked with another method, else 404.
pub async fn no_route(req: HttpRequest, known: web::Data<KnownPaths>) -> HttpResponse {
    match known.methods_of(req.path()) {
        Some(methods) if !methods.contains(req.method()) => {
            let allow: Vec<&str> = methods.iter().map(Method::as_str).collect();
            let mut response = ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                Code::MethodNotAllowed,
                "this route does not take that method",
            )
            .error_response();
            if let Ok(value) = header::HeaderValue::from_str(&allow.join(", ")) {
                response.headers_mut().insert(header::ALLOW, value);
            }
            response
        }
        _ => ApiError::from(Error::NotFound("route")).error_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_paths_answer_their_methods_whatever_fills_a_parameter() {
        let known = KnownPaths::of(&super::super::openapi::openapi());
        assert_eq!(known.methods_of("/api/v1/areas"), Some(&[Method::GET, Method::POST][..]));
        assert_eq!(known.methods_of("/api/v1/kit-issues/anything/void"), Some(&[Method::POST][..]));
        assert_eq!(known.methods_of("/api/v1/certificates/verify/7K2QF"), Some(&[Method::GET][..]));
        assert!(known.methods_of("/api/v1/kit-issues//void").is_none());
        assert!(known.methods_of("/api/v1/nothing-here").is_none());
    }
}
