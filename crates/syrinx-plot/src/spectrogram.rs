use std::path::Path;

use plotters::prelude::*;
use syrinx_audio::Spectrogram;

use crate::font::ensure_font;
use crate::{magma, PlotError};

/// How a spectrogram picture looks.
#[derive(Debug, Clone)]
pub struct SpectrogramStyle {
    /// Size of the whole PNG (axes included).
    pub width_px: u32,
    pub height_px: u32,
    /// Shown above the plot.
    pub title: String,
    /// Levels more than this far below the loudest cell are black.
    pub dynamic_range_db: f32,
}

impl Default for SpectrogramStyle {
    fn default() -> Self {
        SpectrogramStyle {
            width_px: 1280,
            height_px: 400,
            title: String::new(),
            dynamic_range_db: 80.0,
        }
    }
}

/// Draw `spec` with a time axis (s) and a frequency axis (kHz; mel-spaced ticks for mel spectrograms).
pub fn spectrogram_png(
    spec: &Spectrogram,
    path: &Path,
    style: &SpectrogramStyle,
) -> Result<(), PlotError> {
    if spec.width == 0 || spec.height == 0 || spec.data.len() != spec.width * spec.height {
        return Err(PlotError::Empty(format!(
            "spectrogram of {}x{} cells",
            spec.width, spec.height
        )));
    }
    ensure_font()?;
    let draw_err = |e: &dyn std::fmt::Display| PlotError::Draw {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let root = BitMapBackend::new(path, (style.width_px.max(200), style.height_px.max(120)))
        .into_drawing_area();
    root.fill(&WHITE).map_err(|e| draw_err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(&style.title, ("sans-serif", 18))
        .margin(8)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(spec.t0..spec.t1, 0f64..spec.height as f64)
        .map_err(|e| draw_err(&e))?;
    let row_hz = |y: &f64| {
        let row = (*y as usize).min(spec.height - 1);
        format!("{:.1}", spec.row_center_hz(row) / 1000.0)
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("time (s)")
        .y_desc("frequency (kHz)")
        .y_label_formatter(&row_hz)
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(|e| draw_err(&e))?;

    let max_db = spec
        .data
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f32::MIN, f32::max);
    let range = style.dynamic_range_db.max(1.0);
    let area = chart.plotting_area();
    let (xr, yr) = area.get_pixel_range();
    let (pw, ph) = (
        (xr.end - xr.start).max(1) as usize,
        (yr.end - yr.start).max(1) as usize,
    );
    for py in 0..ph {
        // pixel row 0 is the top: the highest frequency
        let row = ((ph - 1 - py) * spec.height / ph).min(spec.height - 1);
        for px in 0..pw {
            let col = (px * spec.width / pw).min(spec.width - 1);
            let v = spec.data[row * spec.width + col];
            let (r, g, b) = magma((v - (max_db - range)) / range);
            root.draw_pixel(
                (xr.start + px as i32, yr.start + py as i32),
                &RGBColor(r, g, b),
            )
            .map_err(|e| draw_err(&e))?;
        }
    }
    root.present().map_err(|e| draw_err(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use syrinx_audio::{spectrogram_of_samples, FreqScale, SpectrogramParams};

    #[test]
    fn draws_a_tone_into_a_png() {
        let sr = 48_000u32;
        let samples: Vec<f32> = (0..sr as usize * 2)
            .map(|i| (2.0 * std::f32::consts::PI * 4000.0 * i as f32 / sr as f32).sin())
            .collect();
        let params = SpectrogramParams {
            width: 200,
            height: 64,
            scale: FreqScale::Mel,
            ..Default::default()
        };
        let spec = spectrogram_of_samples(&samples, sr, &params).expect("spectrogram");
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("tone.png");
        spectrogram_png(
            &spec,
            &out,
            &SpectrogramStyle {
                title: "tone".into(),
                ..Default::default()
            },
        )
        .expect("png");
        let bytes = std::fs::read(&out).expect("read png");
        assert!(bytes.starts_with(b"\x89PNG"), "not a PNG");
    }
}
