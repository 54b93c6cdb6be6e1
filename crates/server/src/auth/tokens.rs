//! Access tokens (short-lived JWTs) and refresh tokens (opaque, stored as hashes).
//!
//! Access tokens pin one algorithm, carry `kid` so keys can rotate (one signing key, several
//! verification keys, each retirable), and must carry `exp`, `iss`, `aud` and `sub`. They say
//! only who the caller is: roles are loaded fresh from the database on every request.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode};
use orb_domain::access::RespondentScope;
use orb_domain::ids::UserId;
use rand::RngCore;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{DEVELOPMENT_JWT_SECRET, JwtAlgorithm, JwtKey, JwtSettings};

/// The claims of an access token.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iss: String,
    aud: String,
    exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jti: Option<String>,
}

/// The claims of a respondent token: one response of one administration.
#[derive(Debug, Serialize, Deserialize)]
struct RespondentClaims {
    sub: String,
    adm: String,
    cty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    inv: Option<String>,
    iss: String,
    aud: String,
    exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
}

/// Why a presented access token was refused. Never shown in detail to the caller.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Malformed, wrong algorithm, bad signature, expired, wrong audience…
    #[error("invalid token: {0}")]
    Invalid(String),
    /// Signed with a key this service does not know, or one retired.
    #[error("unknown or retired signing key")]
    UnknownKey,
}

/// Why the key configuration is unusable.
#[derive(Debug, thiserror::Error)]
#[error("jwt keys: {0}")]
pub struct KeyError(String);

struct VerificationKey {
    key: DecodingKey,
    retire_after: Option<DateTime<Utc>>,
}

/// Issues and verifies access tokens.
pub struct AccessTokens {
    algorithm: Algorithm,
    signing_kid: String,
    signing_key: EncodingKey,
    verification: HashMap<String, VerificationKey>,
    issuer: String,
    audience: String,
    ttl: Duration,
    respondent_ttl: Duration,
    leeway: u64,
}

impl AccessTokens {
    /// Builds the key set from configuration.
    pub fn from_settings(settings: &JwtSettings) -> Result<Self, KeyError> {
        let algorithm = match settings.algorithm {
            JwtAlgorithm::HS256 => Algorithm::HS256,
            JwtAlgorithm::EdDSA => Algorithm::EdDSA,
        };
        let mut keys: Vec<JwtKey> = settings.keys.clone();
        if keys.is_empty() {
            let secret = settings.secret.clone().unwrap_or_else(|| secrecy::SecretString::from(DEVELOPMENT_JWT_SECRET));
            keys.push(JwtKey {
                kid: settings.signing_kid.clone(),
                secret: Some(secret),
                private_key_pem: None,
                private_key_file: None,
                public_key_pem: None,
                public_key_file: None,
                retire_after: None,
            });
        }
        let mut verification = HashMap::new();
        let mut signing_key = None;
        for key in &keys {
            let (encoding, decoding) = load_key(algorithm, key)?;
            if key.kid == settings.signing_kid {
                signing_key =
                    Some(encoding.ok_or_else(|| {
                        KeyError(format!("signing key `{}` needs its secret or private key", key.kid))
                    })?);
            }
            if verification
                .insert(key.kid.clone(), VerificationKey { key: decoding, retire_after: key.retire_after })
                .is_some()
            {
                return Err(KeyError(format!("key id `{}` appears twice", key.kid)));
            }
        }
        let signing_key =
            signing_key.ok_or_else(|| KeyError(format!("no key has the signing kid `{}`", settings.signing_kid)))?;
        Ok(Self {
            algorithm,
            signing_kid: settings.signing_kid.clone(),
            signing_key,
            verification,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            ttl: Duration::from_secs(settings.access_ttl_seconds),
            respondent_ttl: Duration::from_secs(settings.respondent_ttl_seconds),
            leeway: settings.leeway_seconds,
        })
    }

    /// Lifetime of issued tokens.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A fresh access token for `user`.
    pub fn issue(&self, user: UserId) -> Result<String, TokenError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user.to_string(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: now + self.ttl.as_secs() as i64,
            iat: Some(now),
            nbf: Some(now),
            jti: Some(uuid::Uuid::new_v4().to_string()),
        };
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.signing_kid.clone());
        encode(&header, &claims, &self.signing_key).map_err(|e| TokenError::Invalid(e.to_string()))
    }

    /// The user a presented token names, if it is valid in every respect.
    pub fn verify(&self, token: &str) -> Result<UserId, TokenError> {
        let key = self.key_for(token)?;
        let data = decode::<Claims>(token, key, &self.validation(&self.audience))
            .map_err(|e| TokenError::Invalid(e.to_string()))?;
        data.claims.sub.parse().map_err(|_| TokenError::Invalid("sub is not a user id".into()))
    }
}

impl AccessTokens {
    /// The audience of respondent tokens: distinct, so one is never taken for a user's token.
    fn respondent_audience(&self) -> String {
        format!("{}:respondent", self.audience)
    }

    /// A token opening exactly one response, for a respondent who exchanged a survey code.
    pub fn issue_respondent(&self, scope: &RespondentScope) -> Result<(String, u64), TokenError> {
        let now = Utc::now().timestamp();
        let claims = RespondentClaims {
            sub: scope.response_id.to_string(),
            adm: scope.administration_id.to_string(),
            cty: scope.county_id.to_string(),
            inv: scope.invitation_id.map(|i| i.to_string()),
            iss: self.issuer.clone(),
            aud: self.respondent_audience(),
            exp: now + self.respondent_ttl.as_secs() as i64,
            iat: Some(now),
        };
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.signing_kid.clone());
        let token = encode(&header, &claims, &self.signing_key).map_err(|e| TokenError::Invalid(e.to_string()))?;
        Ok((token, self.respondent_ttl.as_secs()))
    }

    /// The scope a presented respondent token grants, if it is valid in every respect.
    pub fn verify_respondent(&self, token: &str) -> Result<RespondentScope, TokenError> {
        let key = self.key_for(token)?;
        let validation = self.validation(&self.respondent_audience());
        let data =
            decode::<RespondentClaims>(token, key, &validation).map_err(|e| TokenError::Invalid(e.to_string()))?;
        let c = data.claims;
        let bad = |_| TokenError::Invalid("malformed respondent claims".into());
        Ok(RespondentScope {
            response_id: c.sub.parse().map_err(bad)?,
            administration_id: c.adm.parse().map_err(bad)?,
            county_id: c.cty.parse().map_err(bad)?,
            invitation_id: c.inv.map(|i| i.parse()).transpose().map_err(bad)?,
        })
    }

    fn key_for(&self, token: &str) -> Result<&DecodingKey, TokenError> {
        let header = decode_header(token).map_err(|e| TokenError::Invalid(e.to_string()))?;
        if header.alg != self.algorithm {
            return Err(TokenError::Invalid("algorithm not accepted".into()));
        }
        let kid = header.kid.ok_or_else(|| TokenError::Invalid("no kid".into()))?;
        let key = self.verification.get(&kid).ok_or(TokenError::UnknownKey)?;
        if key.retire_after.is_some_and(|at| Utc::now() > at) {
            return Err(TokenError::UnknownKey);
        }
        Ok(&key.key)
    }

    fn validation(&self, audience: &str) -> Validation {
        let mut validation = Validation::new(self.algorithm);
        validation.algorithms = vec![self.algorithm];
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = self.leeway;
        validation
    }
}

fn load_key(algorithm: Algorithm, key: &JwtKey) -> Result<(Option<EncodingKey>, DecodingKey), KeyError> {
    let err = |m: String| KeyError(format!("key `{}`: {m}", key.kid));
    match algorithm {
        Algorithm::HS256 => {
            let secret = key.secret.as_ref().ok_or_else(|| err("HS256 keys need a secret".into()))?;
            let bytes = secret.expose_secret().as_bytes();
            if bytes.len() < 32 {
                return Err(err("HS256 secrets must be at least 32 bytes".into()));
            }
            Ok((Some(EncodingKey::from_secret(bytes)), DecodingKey::from_secret(bytes)))
        }
        Algorithm::EdDSA => {
            let private = match (&key.private_key_pem, &key.private_key_file) {
                (Some(pem), _) => Some(pem.expose_secret().as_bytes().to_vec()),
                (None, Some(path)) => Some(std::fs::read(path).map_err(|e| err(format!("{}: {e}", path.display())))?),
                (None, None) => None,
            };
            let public = match (&key.public_key_pem, &key.public_key_file) {
                (Some(pem), _) => pem.as_bytes().to_vec(),
                (None, Some(path)) => std::fs::read(path).map_err(|e| err(format!("{}: {e}", path.display())))?,
                (None, None) => return Err(err("EdDSA keys need a public key".into())),
            };
            let encoding =
                private.map(|pem| EncodingKey::from_ed_pem(&pem).map_err(|e| err(e.to_string()))).transpose()?;
            let decoding = DecodingKey::from_ed_pem(&public).map_err(|e| err(e.to_string()))?;
            Ok((encoding, decoding))
        }
        other => Err(err(format!("algorithm {other:?} is not supported"))),
    }
}

impl orb_graphql::collection::RespondentTokens for AccessTokens {
    fn issue(&self, scope: &RespondentScope) -> Result<(String, u64), String> {
        self.issue_respondent(scope).map_err(|e| e.to_string())
    }
}

/// A new opaque refresh token and the hash under which it is stored.
pub fn new_refresh_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = refresh_token_hash(&token);
    (token, hash)
}

/// The stored hash of a refresh token.
pub fn refresh_token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> AccessTokens {
        AccessTokens::from_settings(&JwtSettings::default()).expect("development keys load")
    }

    #[test]
    fn issued_tokens_verify() {
        let tokens = tokens();
        let user = UserId::new();
        let token = tokens.issue(user).expect("issues");
        assert_eq!(tokens.verify(&token).ok(), Some(user));
    }

    #[test]
    fn tampered_tokens_are_refused() {
        let tokens = tokens();
        let token = tokens.issue(UserId::new()).expect("issues");
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = URL_SAFE_NO_PAD.encode(br#"{"sub":"00000000-0000-0000-0000-000000000000","iss":"orb","aud":"orb-api","exp":9999999999,"iat":0,"nbf":0,"jti":"x"}"#);
        assert!(tokens.verify(&parts.join(".")).is_err());
        assert!(tokens.verify("not.a.token").is_err());
    }

    #[test]
    fn a_retired_key_is_refused() {
        let mut settings = JwtSettings::default();
        let secret = secrecy::SecretString::from("0123456789abcdef0123456789abcdef-old");
        settings.keys = vec![JwtKey {
            kid: "old".into(),
            secret: Some(secret.clone()),
            private_key_pem: None,
            private_key_file: None,
            public_key_pem: None,
            public_key_file: None,
            retire_after: None,
        }];
        settings.signing_kid = "old".into();
        let old = AccessTokens::from_settings(&settings).expect("loads");
        let token = old.issue(UserId::new()).expect("issues");
        settings.keys.push(JwtKey {
            kid: "new".into(),
            secret: Some(secrecy::SecretString::from("0123456789abcdef0123456789abcdef-new")),
            private_key_pem: None,
            private_key_file: None,
            public_key_pem: None,
            public_key_file: None,
            retire_after: None,
        });
        settings.signing_kid = "new".into();
        let rotated = AccessTokens::from_settings(&settings).expect("loads");
        assert!(rotated.verify(&token).is_ok(), "old tokens verify during the overlap");
        settings.keys[0].retire_after = Some(Utc::now() - chrono::Duration::seconds(1));
        let retired = AccessTokens::from_settings(&settings).expect("loads");
        assert!(matches!(retired.verify(&token), Err(TokenError::UnknownKey)));
    }

    #[test]
    fn respondent_tokens_open_one_response_and_are_never_user_tokens() {
        let tokens = tokens();
        let scope = RespondentScope {
            response_id: orb_domain::ids::ResponseId::new(),
            administration_id: orb_domain::ids::AdministrationId::new(),
            county_id: orb_domain::ids::CountyId::new(),
            invitation_id: None,
        };
        let (token, _) = tokens.issue_respondent(&scope).expect("issues");
        assert_eq!(tokens.verify_respondent(&token).ok(), Some(scope));
        assert!(tokens.verify(&token).is_err(), "a respondent token is not a user's token");
        let user_token = tokens.issue(UserId::new()).expect("issues");
        assert!(tokens.verify_respondent(&user_token).is_err(), "nor the reverse");
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, hash_a) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(refresh_token_hash(&a), hash_a);
        assert_eq!(hash_a.len(), 32);
    }
}
