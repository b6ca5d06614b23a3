//! Combined results table (stdout + markdown) and recall-vs-QPS plot (plotters, bitmap backend).

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::Row;

fn mb(b: u64) -> String {
    if b == 0 {
        "-".into()
    } else {
        format!("{:.0} MB", b as f64 / 1e6)
    }
}

struct Summary {
    dataset: String,
    system: String,
    at95: Option<Row>,
    at99: Option<Row>,
    best_recall: f64,
    build_s: f64,
    index_bytes: u64,
    hwm: u64,
}

fn best_at(rows: &[&Row], r: f64) -> Option<Row> {
    rows.iter()
        .filter(|x| x.recall >= r)
        .max_by(|a, b| a.qps.total_cmp(&b.qps))
        .map(|x| (*x).clone())
}

pub fn report(
    files: &[PathBuf],
    md: Option<&Path>,
    png: Option<&Path>,
    plot_ds: Option<&str>,
    preamble: &str,
) -> Result<(), String> {
    let mut rows: Vec<Row> = Vec::new();
    for f in files {
        match std::fs::read_to_string(f) {
            Ok(s) => {
                let r: Vec<Row> =
                    serde_json::from_str(&s).map_err(|e| format!("{}: {e}", f.display()))?;
                rows.extend(r);
            }
            Err(e) => eprintln!("report: skipping {}: {e}", f.display()),
        }
    }
    let mut keys: Vec<(String, String)> = Vec::new();
    for r in &rows {
        let k = (r.dataset.clone(), r.system.clone());
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys.sort();
    let sums: Vec<Summary> = keys
        .iter()
        .map(|(d, s)| {
            let rs: Vec<&Row> = rows
                .iter()
                .filter(|r| &r.dataset == d && &r.system == s)
                .collect();
            Summary {
                dataset: d.clone(),
                system: s.clone(),
                at95: best_at(&rs, 0.95),
                at99: best_at(&rs, 0.99),
                best_recall: rs.iter().map(|r| r.recall).fold(0.0, f64::max),
                build_s: rs.first().map_or(0.0, |r| r.build_s),
                index_bytes: rs.first().map_or(0, |r| r.index_bytes),
                hwm: rs.iter().map(|r| r.hwm_bytes).max().unwrap_or(0),
            }
        })
        .collect();
    let cell = |r: &Option<Row>| match r {
        Some(r) if r.p99_ms.is_nan() => format!("{:.0} ({}, one call)", r.qps, r.param),
        Some(r) => format!("{:.0} ({}, p99 {:.2} ms)", r.qps, r.param, r.p99_ms),
        None => "not reached".into(),
    };
    let mut out = String::new();
    out.push_str(preamble);
    out.push_str("\n\n| dataset | system | QPS @ recall@10 >= 0.95 | QPS @ >= 0.99 | max recall | build | index memory | search-process peak RSS |\n|---|---|---|---|---|---|---|---|\n");
    for s in &sums {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {:.4} | {:.0} s | {} | {} |\n",
            s.dataset,
            s.system,
            cell(&s.at95),
            cell(&s.at99),
            s.best_recall,
            s.build_s,
            mb(s.index_bytes),
            mb(s.hwm)
        ));
    }
    out.push_str("\n<details><summary>Full sweep</summary>\n\n| dataset | system | param | recall@10 | QPS | p50 ms | p99 ms | note |\n|---|---|---|---|---|---|---|---|\n");
    // One-call peer rows have no per-query latencies (NaN after loading): a dash, not "NaN".
    let ms = |v: f64| {
        if v.is_nan() {
            "-".to_string()
        } else {
            format!("{v:.3}")
        }
    };
    for r in &rows {
        out.push_str(&format!(
            "| {} | {} | {} | {:.4} | {:.0} | {} | {} | {} |\n",
            r.dataset,
            r.system,
            r.param,
            r.recall,
            r.qps,
            ms(r.p50_ms),
            ms(r.p99_ms),
            r.note
        ));
    }
    out.push_str("\n</details>\n");
    println!("{out}");
    if let Some(md) = md {
        if let Some(p) = md.parent() {
            let _ = std::fs::create_dir_all(p);
        }
        std::fs::write(md, &out).map_err(|e| e.to_string())?;
        println!("report: wrote {}", md.display());
    }
    if let Some(png) = png {
        let ds = plot_ds
            .map(str::to_string)
            .or_else(|| keys.first().map(|k| k.0.clone()))
            .unwrap_or_default();
        plot(&rows, &ds, png)?;
        println!("report: wrote {}", png.display());
    }
    Ok(())
}

/// Register a TrueType font for plotters' ab_glyph text backend (SYRINX_FONT or DejaVu Sans).
fn register_font() -> Result<(), String> {
    let mut cands: Vec<PathBuf> = std::env::var_os("SYRINX_FONT")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    for p in [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/Library/Fonts/Arial.ttf",
    ] {
        cands.push(PathBuf::from(p));
    }
    for c in &cands {
        if let Ok(b) = std::fs::read(c) {
            let b: &'static [u8] = Box::leak(b.into_boxed_slice());
            if plotters::style::register_font("sans-serif", FontStyle::Normal, b).is_ok() {
                return Ok(());
            }
        }
    }
    Err("no TrueType font found for the plot (set SYRINX_FONT to a .ttf file)".into())
}

fn plot(rows: &[Row], dataset: &str, png: &Path) -> Result<(), String> {
    register_font()?;
    if let Some(p) = png.parent() {
        let _ = std::fs::create_dir_all(p);
    }
    let rs: Vec<&Row> = rows
        .iter()
        .filter(|r| r.dataset == dataset && r.qps > 0.0)
        .collect();
    if rs.is_empty() {
        return Err(format!("no rows for dataset {dataset}"));
    }
    let xmin = rs
        .iter()
        .map(|r| r.recall)
        .fold(1.0, f64::min)
        .clamp(0.5, 0.95)
        - 0.01;
    let ymin = rs.iter().map(|r| r.qps).fold(f64::INFINITY, f64::min) * 0.8;
    let ymax = rs.iter().map(|r| r.qps).fold(0.0, f64::max) * 1.25;
    let root = BitMapBackend::new(png, (1100, 700)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("recall@10 vs QPS (1 thread) - {dataset}"),
            ("sans-serif", 26),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(xmin..1.0f64, (ymin..ymax).log_scale())
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("recall@10")
        .y_desc("queries per second")
        .draw()
        .map_err(|e| e.to_string())?;
    let mut systems: Vec<&str> = Vec::new();
    for r in &rs {
        if !systems.contains(&r.system.as_str()) {
            systems.push(&r.system);
        }
    }
    for (i, s) in systems.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let mut pts: Vec<(f64, f64)> = rs
            .iter()
            .filter(|r| r.system == *s)
            .map(|r| (r.recall.max(xmin), r.qps))
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(*s)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))
            .map_err(|e| e.to_string())?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}
