//! The session's error type, and the shape errors take on their way to a UI.

use serde::Serialize;

/// Everything a session call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("{0}")]
    Library(#[from] syrinx_library::LibraryError),
    #[error("{0}")]
    Model(#[from] syrinx_embed::EmbedError),
    #[error("{0}")]
    Audio(#[from] syrinx_audio::AudioError),
    #[error("{0}")]
    Device(#[from] syrinx_devices::DevicesError),
    #[error("{0}")]
    Invalid(String),
    #[error("nothing is being recorded")]
    NotRecording,
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = SessionError> = std::result::Result<T, E>;

/// An error as a UI shows it: a category, one readable sentence, and optional detail.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ErrorInfo {
    /// `model`, `audio`, `library`, `device`, `invalid` or `internal`.
    pub kind: String,
    pub message: String,
    pub detail: Option<String>,
}

impl From<&SessionError> for ErrorInfo {
    fn from(e: &SessionError) -> Self {
        use syrinx_library::LibraryError as L;
        let kind = match e {
            SessionError::Model(_) | SessionError::Library(L::Embed(_)) => "model",
            SessionError::Audio(_) | SessionError::Library(L::Audio(_)) => "audio",
            SessionError::Library(L::Invalid(_) | L::Missing(_)) | SessionError::Invalid(_) => {
                "invalid"
            }
            SessionError::Library(_) => "library",
            SessionError::Device(_) | SessionError::NotRecording => "device",
            SessionError::Internal(_) => "internal",
        };
        let mut detail = Vec::new();
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            let t = s.to_string();
            if !e.to_string().contains(&t) {
                detail.push(t);
            }
            src = s.source();
        }
        ErrorInfo {
            kind: kind.into(),
            message: e.to_string(),
            detail: (!detail.is_empty()).then(|| detail.join("\n")),
        }
    }
}

impl From<SessionError> for ErrorInfo {
    fn from(e: SessionError) -> Self {
        ErrorInfo::from(&e)
    }
}
