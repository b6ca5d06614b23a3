//! Opus support. Symphonia has no native Opus decoder, so the Ogg demuxer's Opus packets are fed
//! to libopus through `symphonia-adapter-libopus` (libopus is compiled from source and linked
//! statically by `opusic-sys`; building it needs `cmake` and a C compiler).

use std::sync::OnceLock;

use symphonia::core::codecs::registry::CodecRegistry;
use symphonia_adapter_libopus::OpusDecoder;

/// All symphonia codecs enabled in this crate plus libopus for Opus.
pub(crate) fn codec_registry() -> &'static CodecRegistry {
    static REGISTRY: OnceLock<CodecRegistry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut r = CodecRegistry::new();
        symphonia::default::register_enabled_codecs(&mut r);
        r.register_audio_decoder::<OpusDecoder>();
        r
    })
}

#[cfg(test)]
mod tests {
    use symphonia::core::codecs::audio::well_known::CODEC_ID_OPUS;

    #[test]
    fn opus_is_registered() {
        let r = super::codec_registry();
        let d = r
            .get_audio_decoder(CODEC_ID_OPUS)
            .expect("opus decoder registered");
        assert_eq!(d.codec.info.short_name, "opus");
    }
}
