/// Errors that end a command (per-file failures are reported and counted instead).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Embed(#[from] syrinx_embed::EmbedError),
    #[error(transparent)]
    Audio(#[from] syrinx_audio::AudioError),
    #[error(transparent)]
    Plot(#[from] syrinx_plot::PlotError),
    #[error(transparent)]
    Library(#[from] syrinx_library::LibraryError),
    #[error("{0}")]
    Usage(String),
}
