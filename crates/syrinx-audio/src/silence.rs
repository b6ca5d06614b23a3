//! Digital-silence detection, so that downstream stages can skip windows with nothing in them.

/// Samples whose spread (max − min) is at most this are considered digital silence.
pub const SILENCE_THRESHOLD: f32 = 1e-7;

/// True if `samples` is digital silence: empty, all (near-)zero, or all the same value (a flat
/// DC level). Precisely: `max(samples) - min(samples) <= SILENCE_THRESHOLD`, or the largest
/// magnitude is below the threshold. NaN anywhere makes the block non-silent.
pub fn is_silent(samples: &[f32]) -> bool {
    let Some(&first) = samples.first() else {
        return true;
    };
    let mut lo = first;
    let mut hi = first;
    for &x in samples {
        if x.is_nan() {
            return false;
        }
        lo = lo.min(x);
        hi = hi.max(x);
    }
    (hi - lo) <= SILENCE_THRESHOLD || (hi.abs() < SILENCE_THRESHOLD && lo.abs() < SILENCE_THRESHOLD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeros_tiny_and_constant_are_silent() {
        assert!(is_silent(&[]));
        assert!(is_silent(&[0.0; 1000]));
        assert!(is_silent(&[1e-8, -1e-8, 5e-8, 0.0]));
        assert!(is_silent(&[0.3; 500]));
    }

    #[test]
    fn any_real_signal_is_not_silent() {
        let mut x = vec![0.0f32; 144_000];
        x[70_000] = 1e-4;
        assert!(!is_silent(&x));
        let tone: Vec<f32> = (0..4800).map(|i| (i as f32 * 0.01).sin() * 1e-3).collect();
        assert!(!is_silent(&tone));
        assert!(!is_silent(&[0.0, f32::NAN]));
    }
}
