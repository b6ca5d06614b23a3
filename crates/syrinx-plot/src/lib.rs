//! Pictures with axes, drawn with plotters into PNG files: spectrograms (for the CLI and for exports) and
//! line charts (for benchmark reports).
//!
//! Text needs a TrueType font; it is read once at run time from the system (DejaVu Sans, installed by
//! `scripts/setup` as `fonts-dejavu-core`) or from `SYRINX_FONT`.

mod chart;
mod colormap;
mod error;
mod font;
mod spectrogram;

pub use chart::{line_chart_png, Series};
pub use colormap::magma;
pub use error::PlotError;
pub use spectrogram::{spectrogram_png, SpectrogramStyle};
