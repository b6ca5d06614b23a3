use std::path::PathBuf;

/// Why a picture could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("no TrueType font found (looked in {looked}); install fonts-dejavu-core or set SYRINX_FONT to a .ttf file")]
    NoFont { looked: String },
    #[error("could not draw {path}: {reason}")]
    Draw { path: PathBuf, reason: String },
    #[error("nothing to draw: {0}")]
    Empty(String),
}
