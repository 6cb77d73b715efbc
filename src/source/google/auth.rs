//! Who gen is to Google: an API key, or a service account whose JWT buys
//! an OAuth access token, cached until shortly before it expires.

use crate::config::{Config, GoogleSource, Secret, Source};
use crate::error::SourceError;
use crate::redact;
use crate::source::http::{self, HttpOptions, Target};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;

/// Read-only access to spreadsheets: all a site generator needs.
pub const SCOPE: &str = "https://www.googleapis.com/auth/spreadsheets.readonly";
/// With `[players] photo`: the sheet, plus the Drive files shared with the
/// service account (photos kept private on Drive, issue 8).
pub const SCOPE_WITH_DRIVE: &str = "https://www.googleapis.com/auth/spreadsheets.readonly https://www.googleapis.com/auth/drive.readonly";
/// Used when a key file has no `token_uri` (Google's always do).
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// A token is renewed this long before it expires, so that a request never
/// goes out with one that dies in flight.
pub(super) const TOKEN_MARGIN: Duration = Duration::from_secs(5 * 60);
/// Lifetime asked for in the JWT (Google's maximum).
pub(super) const JWT_LIFETIME_SECS: u64 = 3600;

/// The loud warning of `gen check` for a secret column read through a path
/// that anyone holding the sheet's link can use too.
pub const PUBLIC_SECRET_WARNING: &str =
    "anyone with the link can read the PINs; use a service account and restrict sharing";

/// How requests to Google are authorised.
pub enum GoogleAuth {
    ApiKey(Secret),
    ServiceAccount(ServiceAccountKey),
}

/// Who is asking, for error messages.
#[derive(Debug, Clone, Copy)]
pub enum AuthKind<'a> {
    ApiKey,
    ServiceAccount { client_email: &'a str },
}

impl GoogleAuth {
    /// A service account when one is configured (it is the private mode),
    /// else the API key.
    pub fn from_source(g: &GoogleSource) -> Result<GoogleAuth, SourceError> {
        if let Some(path) = &g.credentials {
            let mut key = ServiceAccountKey::load(path)?;
            if g.drive_photos {
                key.scope = SCOPE_WITH_DRIVE;
            }
            return Ok(GoogleAuth::ServiceAccount(key));
        }
        match &g.api_key {
            Some(key) => Ok(GoogleAuth::ApiKey(key.clone())),
            None => Err(SourceError::NoGoogleAuth),
        }
    }

    pub fn kind(&self) -> AuthKind<'_> {
        match self {
            GoogleAuth::ApiKey(_) => AuthKind::ApiKey,
            GoogleAuth::ServiceAccount(k) => AuthKind::ServiceAccount {
                client_email: &k.client_email,
            },
        }
    }
}

/// The parts of a service-account JSON key file we use.
pub struct ServiceAccountKey {
    pub path: PathBuf,
    pub client_email: String,
    pub token_uri: String,
    pub(super) key_id: Option<String>,
    pub(super) signing_key: EncodingKey,
    pub(super) scope: &'static str,
}

impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("path", &self.path)
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

impl ServiceAccountKey {
    pub fn load(path: &Path) -> Result<ServiceAccountKey, SourceError> {
        let bad = |message: String| SourceError::Credentials {
            path: path.to_path_buf(),
            message,
        };
        let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
        ServiceAccountKey::parse(path, &bytes).map_err(bad)
    }

    /// Parsed field by field, never through a typed serde error: those can
    /// quote the value they choked on, and that value may be the key.
    pub(super) fn parse(path: &Path, bytes: &[u8]) -> Result<ServiceAccountKey, String> {
        let json: Value = serde_json::from_slice(bytes).map_err(|e| {
            format!(
                "not a JSON key file (line {}, column {})",
                e.line(),
                e.column()
            )
        })?;
        let field = |name: &str| json.get(name).and_then(Value::as_str).map(str::to_string);
        if let Some(kind) = field("type")
            && kind != "service_account"
        {
            return Err(format!(
                "has \"type\": \"{kind}\"; a service account's key file (\"service_account\") is needed: \
                 Google Cloud console → IAM → Service accounts → Keys → Add key → JSON"
            ));
        }
        let client_email = field("client_email").ok_or("has no \"client_email\"")?;
        let private_key = field("private_key").ok_or("has no \"private_key\"")?;
        // Keys pasted through env files often arrive with literal `\n`.
        let pem = private_key.replace("\\n", "\n");
        let signing_key = EncodingKey::from_rsa_pem(pem.trim().as_bytes())
            .map_err(|_| "\"private_key\" is not an RSA private key in PEM form".to_string())?;
        Ok(ServiceAccountKey {
            path: path.to_path_buf(),
            client_email,
            token_uri: field("token_uri").unwrap_or_else(|| DEFAULT_TOKEN_URI.to_string()),
            key_id: field("private_key_id"),
            signing_key,
            scope: SCOPE,
        })
    }

    /// The signed assertion of RFC 7523 that Google's token endpoint takes.
    pub(super) fn assertion(&self, now_unix: u64) -> Result<String, SourceError> {
        #[derive(Serialize)]
        struct Claims<'a> {
            iss: &'a str,
            scope: &'a str,
            aud: &'a str,
            iat: u64,
            exp: u64,
        }
        let mut header = Header::new(Algorithm::RS256);
        header.kid = self.key_id.clone();
        let claims = Claims {
            iss: &self.client_email,
            scope: self.scope,
            aud: &self.token_uri,
            iat: now_unix,
            exp: now_unix + JWT_LIFETIME_SECS,
        };
        jsonwebtoken::encode(&header, &claims, &self.signing_key).map_err(|e| {
            SourceError::Credentials {
                path: self.path.clone(),
                message: format!("cannot sign a token request: {e}"),
            }
        })
    }
}

/// An OAuth access token and when to stop using it.
pub struct AccessToken {
    pub(super) value: Secret,
    /// The account and endpoint it was issued for: a changed key file
    /// gets a new token.
    pub(super) issued_to: (String, String, &'static str),
    pub(super) renew_at: Instant,
}

/// The token of the service account, kept across cycles by the `Fetcher`.
#[derive(Default)]
pub struct TokenCache(Mutex<Option<AccessToken>>);

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCache(***)")
    }
}

impl TokenCache {
    /// A valid token for `key`: the cached one, or a new one from the key's
    /// `token_uri`. The lock is held while fetching so concurrent cycles
    /// ask once.
    pub(super) async fn get(
        &self,
        http: &reqwest::Client,
        opts: &HttpOptions,
        key: &ServiceAccountKey,
        deadline: Instant,
    ) -> Result<Secret, SourceError> {
        let mut cached = self.0.lock().await;
        let issued_to = (key.client_email.clone(), key.token_uri.clone(), key.scope);
        if let Some(t) = cached.as_ref()
            && t.issued_to == issued_to
            && Instant::now() < t.renew_at
        {
            return Ok(t.value.clone());
        }
        let token = request_token(http, opts, key, deadline).await?;
        let value = token.value.clone();
        *cached = Some(token);
        Ok(value)
    }

    /// Forgets the token (Google refused it: revoked key, changed account).
    pub(super) async fn clear(&self) {
        *self.0.lock().await = None;
    }
}

pub(super) async fn request_token(
    http: &reqwest::Client,
    opts: &HttpOptions,
    key: &ServiceAccountKey,
    deadline: Instant,
) -> Result<AccessToken, SourceError> {
    let now_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let assertion = key.assertion(now_unix)?;
    let url = redact::url(&key.token_uri);
    let started = Instant::now();
    let answer = http::send_with_retry(
        opts,
        &Target {
            url: &url,
            deadline,
        },
        || {
            http.post(&key.token_uri).form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
            ])
        },
    )
    .await?;
    let token_error = |message: String| SourceError::Token {
        client_email: key.client_email.clone(),
        token_uri: url.clone(),
        status: answer.status,
        message,
    };
    let json: Option<Value> = serde_json::from_slice(&answer.body).ok();
    // Upstream words may echo what was sent (issue 23): redacted like URLs.
    let text = |v: &Option<Value>, name: &str| {
        v.as_ref()
            .and_then(|j| j.get(name))
            .and_then(Value::as_str)
            .map(redact::upstream)
    };
    if !answer.is_success() {
        return Err(token_error(match text(&json, "error") {
            Some(error) => {
                let description = text(&json, "error_description").unwrap_or_default();
                format!(
                    "{error} {description}; check that the key file is current (keys can be deleted in the Cloud console) and the machine's clock is right"
                )
            }
            None => format!(
                "not an OAuth answer (content type \"{}\")",
                answer.content_type
            ),
        }));
    }
    let value = text(&json, "access_token").ok_or_else(|| {
        token_error(format!(
            "the answer has no access_token (content type \"{}\")",
            answer.content_type
        ))
    })?;
    let lifetime = json
        .as_ref()
        .and_then(|j| j.get("expires_in"))
        .and_then(Value::as_u64)
        .map_or(Duration::from_secs(JWT_LIFETIME_SECS), Duration::from_secs);
    // Renew 5 minutes early; a short-lived token is used for half its life.
    let margin = TOKEN_MARGIN.min(lifetime / 2);
    tracing::info!(
        client_email = %key.client_email,
        expires_in_s = lifetime.as_secs(),
        "got a Google access token"
    );
    Ok(AccessToken {
        value: Secret::new(value),
        issued_to: (key.client_email.clone(), key.token_uri.clone(), key.scope),
        renew_at: started + lifetime - margin,
    })
}

/// The service account's bearer token (the one the Sheets source uses),
/// for reading photos through the Drive API; `None` without a service
/// account.
pub async fn service_account_token(
    http: &reqwest::Client,
    opts: &HttpOptions,
    tokens: &TokenCache,
    g: &GoogleSource,
    deadline: Instant,
) -> Result<Option<Secret>, SourceError> {
    if g.credentials.is_none() {
        return Ok(None);
    }
    match GoogleAuth::from_source(g)? {
        GoogleAuth::ServiceAccount(key) => Ok(Some(tokens.get(http, opts, &key, deadline).await?)),
        GoogleAuth::ApiKey(_) => Ok(None),
    }
}

/// How `gen check` names the auth path of a Google source.
pub fn auth_description(g: &GoogleSource) -> String {
    match (&g.credentials, &g.api_key) {
        (Some(path), _) => match ServiceAccountKey::load(path) {
            Ok(key) => format!(
                "service account {} (key {}; the sheet needs to be shared with that e-mail only)",
                key.client_email,
                path.display()
            ),
            Err(e) => format!("service account, but its key is unusable: {e}"),
        },
        (None, Some(_)) => "API key (anyone with the link can read the sheet)".to_string(),
        (None, None) => "none configured (set credentials or api_key under [source])".to_string(),
    }
}

/// The warning of `gen check` when the secret column travels through a path
/// that anyone holding the sheet's link can use: an API key or a published
/// CSV. `None` for a service account or local files.
pub fn public_secret_warning(config: &Config) -> Option<String> {
    let public = match &config.source {
        Source::Google(g) => g.credentials.is_none() && g.api_key.is_some(),
        Source::CsvUrls { .. } => true,
        Source::CsvFiles { .. } | Source::Workbook { .. } => false,
    };
    public.then(|| {
        format!(
            "the secret column \"{}\" is read through a public path: {PUBLIC_SECRET_WARNING}",
            config.players.secret
        )
    })
}
