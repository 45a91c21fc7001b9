//! The endpoints every field record has, and those every reference
//! resource has, written once: each use of a macro below declares them,
//! with their documentation, for one kind of record. The domain's
//! `records` and `listing` modules do the work; these only parse and render.

/// Declares `create`, `list`, `get`, `update`, `void` and `release` for a field
/// record (see `domain::records`). Each takes its summary from the doc
/// comment written before it and its response descriptions from the
/// strings after its operation id.
macro_rules! record_endpoints {
    (
        record: $record:ty, new: $new:ty, patch: $patch:ty, filter: $filter:ty,
        tag: $tag:literal, id: $id_doc:literal, url: $url:expr,
        $(#[doc = $create_doc:literal])*
        create($create_id:literal, $created:literal, $held:literal, $location:literal, $duplicate:literal)
            at $collection:literal by |$state:ident, $principal:ident, $body:ident| $submit:expr;
        $(#[doc = $list_doc:literal])*
        list($list_id:literal, $page:literal);
        $(#[doc = $get_doc:literal])*
        get($get_id:literal, $one:literal) at $item:literal;
        $(#[doc = $update_doc:literal])*
        update($update_id:literal, $corrected:literal);
        $(#[doc = $void_doc:literal])*
        void($void_id:literal, $voided:literal) at $void_path:literal;
        $(#[doc = $release_doc:literal])*
        release($release_id:literal, $released:literal) at $release_path:literal;
    ) => {
        use actix_web::{get, patch, post, web, HttpResponse};
        use uuid::Uuid;

        use crate::domain::pagination::{ListQuery, Page, PageParams};
        use crate::domain::principal::Principal;
        use crate::domain::records::{self, FieldRecord, VoidRequest};
        use crate::http::extract::{IfMatch, ValidJson};
        use crate::http::problem::{responses, ApiError, IfMatchParam};
        use crate::http::respond;
        use crate::http::state::AppState;

        type View = <$record as FieldRecord>::View;

        $(#[doc = $create_doc])*
        #[utoipa::path(
            tag = $tag, operation_id = $create_id,
            request_body = $new,
            responses(
                (status = 201, description = $created, body = View, headers(
                    ("Location" = String, description = $location),
                    ("ETag" = String, description = "The record's version, for `If-Match`"),
                )),
                (status = 202, description = $held, body = View, headers(
                    ("Location" = String, description = $location),
                    ("ETag" = String, description = "The record's version, for `If-Match`"),
                )),
                (status = 200, description = $duplicate, body = View, headers(
                    ("ETag" = String, description = "The record's version, for `If-Match`"),
                )),
                (status = 403, response = responses::Forbidden),
                (status = 409, response = responses::Conflict),
                responses::BodyErrors,
                responses::SignedInErrors,
            ),
            security(("bearer" = []))
        )]
        #[post($collection)]
        pub async fn create(
            state: web::Data<AppState>,
            principal: Principal,
            body: ValidJson<$new>,
        ) -> Result<HttpResponse, ApiError> {
            let ($state, $principal, $body) = (&state, principal, body.into_inner());
            respond::submission($submit.await?, $url)
        }

        $(#[doc = $list_doc])*
        #[utoipa::path(
            tag = $tag, operation_id = $list_id,
            params($filter, PageParams),
            responses(
                (status = 200, description = $page, body = Page<View>),
                (status = 400, response = responses::BadRequest),
                (status = 403, response = responses::Forbidden),
                responses::SignedInErrors,
            ),
            security(("bearer" = []))
        )]
        #[get($collection)]
        pub async fn list(
            state: web::Data<AppState>,
            principal: Principal,
            query: ListQuery<$filter>,
        ) -> Result<HttpResponse, ApiError> {
            let page = records::list::<$record>(&state.db, principal, query.filter, query.page).await?;
            Ok(HttpResponse::Ok().json(page))
        }

        $(#[doc = $get_doc])*
        #[utoipa::path(
            tag = $tag, operation_id = $get_id,
            params(("id" = Uuid, Path, description = $id_doc)),
            responses(
                (status = 200, description = $one, body = View, headers(
                    ("ETag" = String, description = "The record's version: send it in `If-Match` with a change"),
                )),
                (status = 403, response = responses::Forbidden),
                (status = 404, response = responses::NotFound),
                responses::SignedInErrors,
            ),
            security(("bearer" = []))
        )]
        #[get($item)]
        pub async fn get(state: web::Data<AppState>, principal: Principal, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
            let record = records::get::<$record>(&state.db, principal, id.into_inner().into()).await?;
            respond::record(&record)
        }

        $(#[doc = $update_doc])*
        #[utoipa::path(
            tag = $tag, operation_id = $update_id,
            params(("id" = Uuid, Path, description = $id_doc), IfMatchParam),
            request_body = $patch,
            responses(
                (status = 200, description = $corrected, body = View, headers(
                    ("ETag" = String, description = "The corrected record's version"),
                )),
                (status = 403, response = responses::Forbidden),
                (status = 404, response = responses::NotFound),
                (status = 409, response = responses::Conflict),
                (status = 412, response = responses::PreconditionFailed),
                responses::BodyErrors,
                responses::SignedInErrors,
            ),
            security(("bearer" = []))
        )]
        #[patch($item)]
        pub async fn update(
            state: web::Data<AppState>,
            principal: Principal,
            id: web::Path<Uuid>,
            if_match: IfMatch,
            body: ValidJson<$patch>,
        ) -> Result<HttpResponse, ApiError> {
            let (id, patch) = (id.into_inner().into(), body.into_inner());
            respond::record(&records::correct::<$record>(&state.db, principal, id, patch, if_match.0).await?)
        }

        $(#[doc = $void_doc])*
        #[utoipa::path(
            tag = $tag, operation_id = $void_id,
            params(("id" = Uuid, Path, description = $id_doc), IfMatchParam),
            request_body = VoidRequest,
            responses(
                (status = 200, description = $voided, body = View, headers(
                    ("ETag" = String, description = "The voided record's version"),
                )),
                (status = 403, response = responses::Forbidden),
                (status = 404, response = responses::NotFound),
                (status = 412, response = responses::PreconditionFailed),
                responses::BodyErrors,
                responses::SignedInErrors,
            ),
            security(("bearer" = []))
        )]
        #[post($void_path)]
        pub async fn void(
            state: web::Data<AppState>,
            principal: Principal,
            id: web::Path<Uuid>,
            if_match: IfMatch,
            body: ValidJson<VoidRequest>,
        ) -> Result<HttpResponse, ApiError> {
            let (id, reason) = (id.into_inner().into(), body.into_inner().reason);
            respond::record(&records::void::<$record>(&state.db, principal, id, reason, if_match.0).await?)
        }

        $(#[doc = $release_doc])*
        #[utoipa::path(
            tag = $tag, operation_id = $release_id,
            params(("id" = Uuid, Path, description = $id_doc), IfMatchParam),
            request_body = VoidRequest,
            responses(
                (status = 200, description = $released, body = View, headers(
                    ("ETag" = String, description = "The released record's version"),
                )),
                (status = 403, response = responses::Forbidden),
                (status = 404, response = responses::NotFound),
                (status = 409, response = responses::Conflict),
                (status = 412, response = responses::PreconditionFailed),
                responses::BodyErrors,
                responses::SignedInErrors,
            ),
            security(("bearer" = []))
        )]
        #[post($release_path)]
        pub async fn release(
            state: web::Data<AppState>,
            principal: Principal,
            id: web::Path<Uuid>,
            if_match: IfMatch,
            body: ValidJson<VoidRequest>,
        ) -> Result<HttpResponse, ApiError> {
            let (id, reason) = (id.into_inner().into(), body.into_inner().reason);
            respond::record(&records::release::<$record>(&state.db, principal, id, reason, if_match.0).await?)
        }
    };
}

/// Declares `list` and `get` for a kind of record read alike by every
/// caller who may see it (see `domain::listing`). The module using it
/// imports actix-web's `get` (utoipa reads the route from it by name) and
/// `Page` (utoipa names the page's schema from it).
macro_rules! reference_endpoints {
    (
        record: $record:ty, filter: $filter:ty, tag: $tag:literal, id: $id_doc:literal,
        $(#[doc = $list_doc:literal])*
        list($list_id:literal, $page:literal) at $collection:literal;
        $(#[doc = $get_doc:literal])*
        get($get_id:literal, $one:literal) at $item:literal;
    ) => {
        $(#[doc = $list_doc])*
        #[utoipa::path(
            tag = $tag, operation_id = $list_id,
            params($filter, crate::domain::pagination::PageParams),
            responses(
                (status = 200, description = $page, body = Page<$record>),
                (status = 400, response = crate::http::problem::responses::BadRequest),
                crate::http::problem::responses::SignedInErrors,
            ),
            security(("bearer" = []))
        )]
        #[get($collection)]
        pub async fn list(
            state: actix_web::web::Data<crate::http::state::AppState>,
            principal: crate::domain::principal::Principal,
            query: crate::domain::pagination::ListQuery<$filter>,
        ) -> Result<actix_web::HttpResponse, crate::http::problem::ApiError> {
            let page = crate::domain::listing::list::<$record>(&state.db, principal, query.filter, query.page).await?;
            Ok(actix_web::HttpResponse::Ok().json(page))
        }

        $(#[doc = $get_doc])*
        #[utoipa::path(
            tag = $tag, operation_id = $get_id,
            params(("id" = uuid::Uuid, Path, description = $id_doc)),
            responses(
                (status = 200, description = $one, body = $record),
                (status = 404, response = crate::http::problem::responses::NotFound),
                crate::http::problem::responses::SignedInErrors,
            ),
            security(("bearer" = []))
        )]
        #[get($item)]
        pub async fn get(
            state: actix_web::web::Data<crate::http::state::AppState>,
            principal: crate::domain::principal::Principal,
            id: actix_web::web::Path<uuid::Uuid>,
        ) -> Result<actix_web::HttpResponse, crate::http::problem::ApiError> {
            let record = crate::domain::listing::get::<$record>(&state.db, principal, id.into_inner().into()).await?;
            Ok(actix_web::HttpResponse::Ok().json(record))
        }
    };
}
