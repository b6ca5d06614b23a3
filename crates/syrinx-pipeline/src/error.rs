/// Why analysing a file stopped.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Audio(#[from] syrinx_audio::AudioError),
    #[error(transparent)]
    Embed(#[from] syrinx_embed::EmbedError),
    #[error("cancelled")]
    Cancelled,
    #[error("{0}")]
    Sink(String),
    #[error("the decoder thread stopped unexpectedly")]
    DecoderThread,
}
