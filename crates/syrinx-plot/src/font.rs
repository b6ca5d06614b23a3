use std::sync::OnceLock;

use plotters::style::FontStyle;

use crate::PlotError;

const CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/Library/Fonts/Arial.ttf",
    "C:\\Windows\\Fonts\\arial.ttf",
];

static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();

/// Register a sans-serif font with plotters once per process.
pub(crate) fn ensure_font() -> Result<(), PlotError> {
    REGISTERED
        .get_or_init(|| {
            let mut paths: Vec<String> = std::env::var("SYRINX_FONT").ok().into_iter().collect();
            paths.extend(CANDIDATES.iter().map(|s| s.to_string()));
            for p in &paths {
                if let Ok(bytes) = std::fs::read(p) {
                    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                    if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
                        .is_ok()
                    {
                        return Ok(());
                    }
                }
            }
            Err(paths.join(", "))
        })
        .clone()
        .map_err(|looked| PlotError::NoFont { looked })
}
