//! Mixing interleaved multi-channel audio down to mono (plain average of the channels).

/// Appends the mono mix of `interleaved` (frames of `channels` samples) to `out`.
///
/// Each output sample is the arithmetic mean of the frame's channels. A trailing partial frame
/// (fewer than `channels` samples) is ignored. `channels == 0` appends nothing.
pub fn mix_to_mono_into(interleaved: &[f32], channels: usize, out: &mut Vec<f32>) {
    match channels {
        0 => {}
        1 => out.extend_from_slice(interleaved),
        2 => out.extend(interleaved.chunks_exact(2).map(|f| 0.5 * (f[0] + f[1]))),
        n => {
            let scale = 1.0 / n as f32;
            out.extend(
                interleaved
                    .chunks_exact(n)
                    .map(|f| f.iter().sum::<f32>() * scale),
            );
        }
    }
}

/// Returns the mono mix of `interleaved` audio with `channels` channels.
pub fn mix_to_mono(interleaved: &[f32], channels: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(interleaved.len() / channels.max(1));
    mix_to_mono_into(interleaved, channels, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stereo_is_average_of_left_and_right() {
        // L = sine-ish ramp, R = constant: mono must be their mean frame by frame.
        let left: Vec<f32> = (0..100).map(|i| (i as f32 * 0.1).sin()).collect();
        let right = vec![0.25f32; 100];
        let inter: Vec<f32> = left
            .iter()
            .zip(&right)
            .flat_map(|(l, r)| [*l, *r])
            .collect();
        let mono = mix_to_mono(&inter, 2);
        assert_eq!(mono.len(), 100);
        for i in 0..100 {
            assert!((mono[i] - (left[i] + 0.25) / 2.0).abs() < 1e-7);
        }
    }

    #[test]
    fn opposite_phase_stereo_cancels() {
        let inter: Vec<f32> = (0..50).flat_map(|i| [i as f32, -(i as f32)]).collect();
        assert!(mix_to_mono(&inter, 2).iter().all(|&x| x == 0.0));
    }

    #[test]
    fn mono_passes_through_and_multichannel_averages() {
        assert_eq!(mix_to_mono(&[1.0, 2.0, 3.0], 1), vec![1.0, 2.0, 3.0]);
        // 3 channels, 2 frames, plus a dangling partial frame that is ignored
        let m = mix_to_mono(&[3.0, 6.0, 9.0, 0.0, 0.0, 3.0, 1.0], 3);
        assert_eq!(m, vec![6.0, 1.0]);
        assert!(mix_to_mono(&[1.0, 2.0], 0).is_empty());
    }
}
