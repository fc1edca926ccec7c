//! Extractors for OAuth form bodies: the content type is checked, the body is read within the
//! size and time limits, and the form is parsed strictly. Failures become the right response
//! before a handler runs: JSON errors for API endpoints, an HTML page for browser pages. Also
//! the admin API's state and query extractor, shared by its routes and the event stream.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::error::http_error;
use super::pages;
use crate::admin::{Admin, AdminError};
use crate::oauth::OAuthError;
use crate::oauth::form::Form;

/// Why a form body could not be had.
enum BodyError {
    /// The client took too long to send it.
    Timeout,
    /// Over the size limit.
    TooLarge,
    /// The connection failed mid-body.
    Unreadable,
    /// Wrong content type or malformed form.
    Invalid(OAuthError),
}

fn classify(e: BytesRejection) -> BodyError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return BodyError::TooLarge;
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(c) = cause {
        if c.is::<tower_http::timeout::TimeoutError>() {
            return BodyError::Timeout;
        }
        cause = c.source();
    }
    BodyError::Unreadable
}

/// Reads an `application/x-www-form-urlencoded` body (RFC 6749 §3.2, RFC 7662 §2.1, RFC 7009 §2.1).
async fn read_form<S: Send + Sync>(req: Request, state: &S) -> Result<Form, BodyError> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = Bytes::from_request(req, state).await.map_err(classify)?;
    let mime = ct.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(BodyError::Invalid(OAuthError::invalid_request(if ct.is_empty() {
            "missing Content-Type: the body must be application/x-www-form-urlencoded".to_string()
        } else {
            format!("Content-Type `{ct}` is not accepted: the body must be application/x-www-form-urlencoded")
        })));
    }
    Form::parse(&bytes).map_err(BodyError::Invalid)
}

/// A form body for an API endpoint; failures are RFC 6749 §5.2 JSON errors.
pub struct OAuthForm(pub Form);

impl<S: Send + Sync> FromRequest<S> for OAuthForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        read_form(req, state).await.map(OAuthForm).map_err(|e| match e {
            BodyError::Invalid(e) => e.into_response(),
            BodyError::Timeout => http_error(
                StatusCode::REQUEST_TIMEOUT,
                "invalid_request",
                "the request body took too long to arrive".into(),
            ),
            BodyError::TooLarge => http_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                format!("the request body is larger than {} KiB", super::MAX_BODY / 1024),
            ),
            BodyError::Unreadable => http_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the request body could not be read".into(),
            ),
        })
    }
}

/// A form body for a browser page; failures are an HTML error page.
pub struct PageForm(pub Form);

impl<S: Send + Sync> FromRequest<S> for PageForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        read_form(req, state).await.map(PageForm).map_err(|e| {
            let msg = match e {
                BodyError::Invalid(e) => e.description,
                BodyError::Timeout => "The form took too long to arrive.".into(),
                BodyError::TooLarge => "The form is too large.".into(),
                BodyError::Unreadable => "The form could not be read.".into(),
            };
            pages::error("Invalid request", &msg)
        })
    }
}

/// The admin API's state: the admin facade over the provider.
pub type AdminState = Arc<Admin>;

/// Query parameters whose failures are admin errors (400).
pub struct AppQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for AppQuery<T> {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| AppQuery(v))
            .map_err(|e: QueryRejection| AdminError::bad_request(e.body_text()))
    }
}
