//! `syrinx`: the command line over the Syrinx engine (the same crates the app uses).

mod commands;
mod error;
mod library_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "syrinx",
    version,
    about = "Explore bird-call recordings by similarity"
)]
struct Cli {
    /// Folder with birdnet_v2.4.onnx and labels.txt [env: SYRINX_MODEL_DIR; default: the set-up cache]
    #[arg(long, global = true)]
    model_dir: Option<PathBuf>,
    /// ONNX Runtime shared library [env: SYRINX_ORT_DYLIB; default: the set-up cache]
    #[arg(long, global = true)]
    ort_lib: Option<PathBuf>,
    /// Machine-readable output (JSON lines on stdout)
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Format, sample rate, channels and duration of audio files
    Info { files: Vec<PathBuf> },
    /// Species per 3 s window; embeddings to <out-dir>/<name>.embeddings.npy (+ .windows.csv)
    Embed {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Where the .npy/.csv files go (default: beside each audio file)
        #[arg(long)]
        out_dir: Option<PathBuf>,
        /// Seconds between window starts (windows are 3 s long)
        #[arg(long, default_value_t = syrinx_audio::window::DEFAULT_HOP_S)]
        hop: f64,
        /// Species listed per window
        #[arg(long, default_value_t = 3)]
        top: usize,
        /// Inference threads (default: all cores)
        #[arg(long)]
        threads: Option<usize>,
        /// Windows per inference call, per lane (memory grows with it; speed barely does)
        #[arg(long, default_value_t = syrinx_embed::DEFAULT_BATCH)]
        batch: usize,
        /// Only list windows whose best species scores at least this
        #[arg(long, default_value_t = 0.0)]
        min_score: f32,
    },
    /// A library of recordings: ingest, search by similarity, label, export
    Library(Box<library_cmd::LibraryArgs>),
    /// Draw a spectrogram with axes into a PNG
    Spectrogram {
        file: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// Start of the time range (s)
        #[arg(long, default_value_t = 0.0)]
        start: f64,
        /// End of the time range (s; default: end of file)
        #[arg(long)]
        end: Option<f64>,
        #[arg(long, value_enum, default_value_t = Scale::Mel)]
        scale: Scale,
        /// Lowest frequency (Hz)
        #[arg(long, default_value_t = 0.0)]
        fmin: f32,
        /// Highest frequency (Hz; default: Nyquist)
        #[arg(long)]
        fmax: Option<f32>,
        /// Picture size in pixels
        #[arg(long, default_value_t = 1280)]
        width: u32,
        #[arg(long, default_value_t = 400)]
        height: u32,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Scale {
    Linear,
    Mel,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ctx = commands::Context {
        model_dir: cli.model_dir,
        ort_lib: cli.ort_lib,
        json: cli.json,
    };
    let result = match cli.command {
        Command::Info { files } => commands::info(&ctx, &files),
        Command::Library(args) => library_cmd::run(&ctx, *args),
        Command::Embed {
            files,
            out_dir,
            hop,
            top,
            threads,
            batch,
            min_score,
        } => commands::embed(
            &ctx,
            &files,
            &commands::EmbedArgs {
                out_dir,
                hop,
                top,
                threads,
                batch,
                min_score,
            },
        ),
        Command::Spectrogram {
            file,
            out,
            start,
            end,
            scale,
            fmin,
            fmax,
            width,
            height,
        } => {
            let scale = match scale {
                Scale::Linear => syrinx_audio::FreqScale::Linear,
                Scale::Mel => syrinx_audio::FreqScale::Mel,
            };
            commands::spectrogram(&file, &out, start, end, scale, fmin, fmax, width, height)
        }
    };
    match result {
        Ok(0) => ExitCode::SUCCESS,
        Ok(failed) => {
            eprintln!("syrinx: {failed} file(s) failed (see above)");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("syrinx: error: {e}");
            ExitCode::from(2)
        }
    }
}
