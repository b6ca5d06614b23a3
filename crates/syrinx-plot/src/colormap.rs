/// Magma-like colour map (perceptually ordered, dark = quiet): `t` in [0, 1] to RGB.
pub fn magma(t: f32) -> (u8, u8, u8) {
    const STOPS: [(f32, [f32; 3]); 6] = [
        (0.0, [0.0, 0.0, 4.0]),
        (0.2, [59.0, 15.0, 112.0]),
        (0.4, [140.0, 41.0, 129.0]),
        (0.6, [222.0, 73.0, 104.0]),
        (0.8, [254.0, 159.0, 109.0]),
        (1.0, [252.0, 253.0, 191.0]),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    for pair in STOPS.windows(2) {
        let (t0, c0) = pair[0];
        let (t1, c1) = pair[1];
        if t <= t1 {
            let f = (t - t0) / (t1 - t0);
            let mix = |i: usize| (c0[i] + f * (c1[i] - c0[i])).round() as u8;
            return (mix(0), mix(1), mix(2));
        }
    }
    (252, 253, 191)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_and_nan() {
        assert_eq!(magma(0.0), (0, 0, 4));
        assert_eq!(magma(1.0), (252, 253, 191));
        assert_eq!(magma(f32::NAN), (0, 0, 4));
        assert!(magma(0.5).0 > magma(0.3).0);
    }
}
